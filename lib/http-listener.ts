import { createServer, type IncomingMessage, type Server } from 'node:http';

// The daemons' small HTTP endpoints (healthz, metrics, healthCheckNodePorts) share this: a pure
// handler from request to response, and one listener per address that can be closed.

export interface HttpResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export type HttpHandler = (request: { method: string; path: string }) => HttpResponse;

export const NOT_FOUND: HttpResponse = { status: 404, contentType: 'text/plain; charset=utf-8', body: '404 page not found\n' };

export interface HttpListener {
  readonly port: number;
  close(): Promise<void>;
}

function requestOf(req: IncomingMessage): { method: string; path: string } {
  return { method: req.method ?? 'GET', path: new URL(req.url ?? '/', 'http://x').pathname };
}

/** Listens on host:port; rejects when the address cannot be bound (in use, not local). */
export function listenHttp(host: string, port: number, handler: HttpHandler): Promise<HttpListener> {
  const server: Server = createServer((req, res) => {
    const response = handler(requestOf(req));
    res.writeHead(response.status, { 'Content-Type': response.contentType, 'X-Content-Type-Options': 'nosniff' });
    res.end(response.body);
  });
  // A probe that keeps its connection open must not hold a daemon's shutdown.
  server.keepAliveTimeout = 1000;
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`cannot listen on "${host}:${port}": ${error.message}`, { cause: error })));
    server.listen(port, host, () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
