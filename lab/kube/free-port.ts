import { createServer } from 'node:net';

/**
 * A port free on the caller's loopback at this moment (the kernel picks it). Used for listeners in the
 * caller's own namespace, or in a namespace just created (which has no listeners of its own yet).
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('cannot pick a free port: no address'))));
    });
  });
}
