import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdClient, WatchCompactedError, prefixRangeEnd } from '../../../weftd/subnet/etcd-client.ts';

const decoded = (b64: string) => Buffer.from(b64, 'base64').toString('latin1');
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('prefixRangeEnd', () => {
  it('ends a prefix range at the prefix with its last byte incremented', () => {
    expect(decoded(prefixRangeEnd('/coreos.com/network/subnets/'))).toBe('/coreos.com/network/subnets0');
  });
});

// etcd's v3 JSON gateway played by a loopback HTTP server on a port the kernel picks: the requests the
// client sends and the replies (whole, or a stream of lines for watch) it reads.
describe('EtcdClient over the JSON gateway', () => {
  let server: Server;
  let url: string;
  const requests: { path: string; body: any }[] = [];
  const handlers = new Map<string, (body: any, res: ServerResponse) => void>();

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let text = '';
      req.on('data', (chunk) => (text += chunk));
      req.on('end', () => {
        const body = JSON.parse(text);
        requests.push({ path: req.url!, body });
        const handle = handlers.get(req.url!);
        if (handle) handle(body, res);
        else res.writeHead(404).end('{"error":"not found"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reads a key and a prefix listing, decoding base64 and int64 strings', async () => {
    handlers.set('/v3/kv/range', (body, res) => {
      const kvs = body.range_end ? [{ key: b64('/p/a'), value: b64('1'), mod_revision: '7', lease: '42' }, { key: b64('/p/b'), value: b64('2'), mod_revision: '8' }] : [{ key: body.key, value: b64('{"Network":"10.244.0.0/16"}'), mod_revision: '3' }];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ header: { revision: '9' }, kvs }));
    });
    const client = new EtcdClient([url]);
    expect(await client.get('/p/config')).toEqual({ key: '/p/config', value: '{"Network":"10.244.0.0/16"}', modRevision: 3, lease: '0' });
    expect(await client.list('/p/')).toEqual({ revision: 9, kvs: [{ key: '/p/a', value: '1', modRevision: 7, lease: '42' }, { key: '/p/b', value: '2', modRevision: 8, lease: '0' }] });
    expect(requests.at(-1)!.body).toEqual({ key: b64('/p/'), range_end: prefixRangeEnd('/p/') });
  });

  it('streams watch events batch by batch, and reports a compacted revision', async () => {
    handlers.set('/v3/watch', (_body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify({ result: { header: {}, created: true } })}\n`);
      res.write(`${JSON.stringify({ result: { events: [{ kv: { key: b64('/p/a'), value: b64('x'), mod_revision: '10' } }] } })}\n${JSON.stringify({ result: { events: [{ type: 'DELETE', kv: { key: b64('/p/b'), mod_revision: '11' } }] } }).slice(0, 20)}`);
      setTimeout(() => res.end(`${JSON.stringify({ result: { events: [{ type: 'DELETE', kv: { key: b64('/p/b'), mod_revision: '11' } }] } }).slice(20)}\n${JSON.stringify({ result: { compact_revision: '5' } })}\n`), 20);
    });
    const client = new EtcdClient([url]);
    const batches: unknown[] = [];
    const watching = (async () => {
      for await (const events of client.watch('/p/', 10, new AbortController().signal)) batches.push(events);
    })();
    await expect(watching).rejects.toThrow(WatchCompactedError);
    expect(batches).toEqual([[{ type: 'put', kv: { key: '/p/a', value: 'x', modRevision: 10, lease: '0' } }], [{ type: 'delete', kv: { key: '/p/b', value: '', modRevision: 11, lease: '0' } }]]);
    expect(requests.at(-1)!.body.create_request.start_revision).toBe('10');
  });

  it('tries the next endpoint when one refuses, and names every endpoint when none answers', async () => {
    handlers.set('/v3/lease/grant', (_body, res) => res.writeHead(200).end(JSON.stringify({ ID: '77', TTL: '60' })));
    expect(await new EtcdClient(['http://127.0.0.1:1', url]).grantLease(60)).toBe('77');
    await expect(new EtcdClient(['http://127.0.0.1:1'], { timeoutMs: 2000 }).grantLease(60)).rejects.toThrow(/cannot reach etcd at "http:\/\/127\.0\.0\.1:1": connect ECONNREFUSED/);
  });

  it('reports an HTTP error with the gateway\'s words', async () => {
    handlers.set('/v3/lease/revoke', (_body, res) => res.writeHead(500).end('{"error":"etcdserver: requested lease not found"}'));
    await expect(new EtcdClient([url]).revokeLease('1')).rejects.toThrow('HTTP 500: {"error":"etcdserver: requested lease not found"}');
  });
});
