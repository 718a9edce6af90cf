import { describe, expect, it } from 'vitest';
import { listenHttp, NOT_FOUND } from '../../../lib/http-listener.ts';
import type { Logger } from '../../../lib/log.ts';
import { runDaemon } from '../../../weftd/daemon.ts';
import type { SubnetManager } from '../../../weftd/subnet/subnet-manager.ts';

describe('weftd health check', () => {
  it('ends with exit code 1 naming the address when the healthz address cannot be bound', async () => {
    // Loopback only, on a port the kernel picks: nothing leaves the host.
    const taken = await listenHttp('127.0.0.1', 0, () => NOT_FOUND);
    try {
      const errors: { msg: string; fields?: Record<string, unknown> }[] = [];
      const log: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: (msg, fields) => errors.push({ msg, fields }), with: () => log };
      const manager = new Proxy({}, { get: () => () => Promise.reject(new Error('the subnet manager must not be reached')) }) as SubnetManager;
      const code = await runDaemon(
        { healthzIp: '127.0.0.1', healthzPort: taken.port, subnetFile: '/nonexistent/subnet.env', ipMasq: false, renewIntervalMs: 1000 },
        { manager, log, signal: new AbortController().signal },
      );
      expect(code).toBe(1);
      expect(errors).toHaveLength(1);
      expect(String((errors[0]!.fields?.error as Error).message)).toContain(`cannot listen on "127.0.0.1:${taken.port}"`);
    } finally {
      await taken.close();
    }
  });
});
