import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyConfig } from '../../proxy/core/config.ts';
import { nftKernel } from '../../proxy/nftables/kernel.ts';
import { NetnsScope, type Netns } from '../support/netns.ts';
import { closeBackends, proxyIn, type ProxyUnderTest } from './proxy-sync.ts';
import { applyRenderedRules, BACKENDS, bodies, CLIENT_IP, createProxyTopology, curl, OBJECTS, POD_CIDR, slice } from './proxy-topology.ts';

// The real proxier with the nftables backend in the topology of proxy-topology.ts, starting from the
// rendered table (whose traffic cases proxy-render.test.ts checks for both modes): a full sync
// replacing that table, and partial syncs made of element changes. Each case sets up the slices it needs.

const CONFIG: ProxyConfig = { hostname: 'node-1', clusterCidr: POD_CIDR, masqueradeMark: 0x4000, nodePortAddresses: [] };
const TCP_UDP = [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'echo', port: 5353, protocol: 'UDP' }];

describe('weft-proxy nftables backend in a node namespace', () => {
  const scope = new NetnsScope();
  const dir = mkdtempSync(join(tmpdir(), 'weft-proxy-nft-'));
  let node: Netns;
  let client: Netns;

  beforeAll(async () => {
    ({ node, client } = await createProxyTopology(scope, dir));
    await applyRenderedRules(node, { dir, mode: 'nftables' });
  });

  afterAll(async () => {
    closeBackends();
    await scope.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A proxier whose first full sync installs OBJECTS. */
  async function synced(): Promise<ProxyUnderTest> {
    const proxy = proxyIn(node.path, { mode: 'nftables' });
    proxy.upsert(...(OBJECTS.items as Record<string, unknown>[]));
    await proxy.proxier.sync('full', CONFIG);
    return proxy;
  }
  const verbs = (payload: string) => new Set(payload.trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' ')));

  it('a full sync replaces the rendered table atomically and keeps serving', async () => {
    const outcome = await (await synced()).proxier.sync('full', CONFIG);
    expect(outcome.result.payload.startsWith('add table ip weft\ndelete table ip weft\n')).toBe(true);
    expect((await bodies(client, 'http://10.96.0.10/cgi-bin/who', 4)).every((b) => /^backend-[ab] /.test(b))).toBe(true);
    expect((await node.exec('nft', ['list', 'tables'])).trim()).toBe('table ip weft');
  });

  it('a full sync on a node without the table loads it in parts that end as the table one transaction writes', async () => {
    await node.exec('nft', ['delete', 'table', 'ip', 'weft']);
    const proxy = proxyIn(node.path, { mode: 'nftables' });
    proxy.upsert(...(OBJECTS.items as Record<string, unknown>[]));
    const loaded = await proxy.proxier.sync('full', CONFIG);
    expect(loaded.result.payload.startsWith('create table ip weft\n')).toBe(true);
    expect((await bodies(client, 'http://10.96.0.10/cgi-bin/who', 4)).every((b) => /^backend-[ab] /.test(b))).toBe(true);
    const listing = async () => (await node.exec('nft', ['list', 'table', 'ip', 'weft'])).split(/[,\n{}]/).map((t) => t.trim()).filter((t) => t !== '').sort();
    const afterLoad = await listing();
    const replaced = await proxy.proxier.sync('full', CONFIG);
    expect(replaced.result.payload.startsWith('add table ip weft\ndelete table ip weft\n')).toBe(true);
    expect(afterLoad).toEqual(await listing());
  });

  it('endpoints for a Service that had none are element changes only, and it then answers', async () => {
    const proxy = await synced();
    proxy.upsert(slice('empty'));
    const outcome = await proxy.proxier.sync('partial', CONFIG);
    expect(outcome.kind).toBe('partial');
    expect(verbs(outcome.result.payload)).toEqual(new Set(['add element', 'delete element']));
    const got = await bodies(client, 'http://10.96.0.14/cgi-bin/who', 10);
    expect(got.every((b) => /^backend-[ab] /.test(b))).toBe(true);
  });

  it('a Service losing an endpoint moves to the one-endpoint group and sends nothing to the removed backend', async () => {
    const proxy = await synced();
    const [a] = BACKENDS;
    proxy.upsert(slice('web', TCP_UDP, [a]));
    const outcome = await proxy.proxier.sync('partial', CONFIG);
    expect(outcome.result.payload).toContain('add map ip weft svcs-tcp-1');
    expect(outcome.result.payload).not.toContain('delete table');
    expect(await bodies(client, 'http://10.96.0.10/cgi-bin/who', 12)).toEqual(Array(12).fill(`backend-a ${CLIENT_IP}`));
  });

  it('a Service losing all endpoints is refused again, and an emptied group is removed', async () => {
    const proxy = await synced();
    const [a] = BACKENDS;
    proxy.upsert(slice('web', TCP_UDP, [a]), slice('empty', undefined, [a]));
    await proxy.proxier.sync('partial', CONFIG);
    proxy.remove('EndpointSlice', 'default', 'web-x1');
    proxy.remove('EndpointSlice', 'default', 'empty-x1');
    const outcome = await proxy.proxier.sync('partial', CONFIG);
    expect(outcome.result.payload).toContain('delete map ip weft svcs-tcp-1');
    expect(outcome.result.payload).toContain('delete chain ip weft group-tcp-1');
    expect((await curl(client, 'http://10.96.0.14/')).code).toBe(7);
    expect((await curl(client, 'http://10.96.0.10/')).code).toBe(7);
    expect(await node.exec('nft', ['list', 'maps', 'ip'])).not.toContain('svcs-tcp-1');
  });

  it('applies a partial sync through the long-lived nft as one transaction: a refused one changes nothing, and the next one still applies', async () => {
    await synced();
    const kernel = nftKernel({ netns: node.path });
    try {
      const valid = 'add element ip weft svcs-tcp-2 { 10.96.0.99 . 80 : 8080 }';
      await expect(kernel.update(`${valid}\nadd element ip weft no-such-set { 10.96.0.99 . tcp . 80 }\n`)).rejects.toThrow(/^cannot apply nftables rules: .*no-such-set/);
      expect(await node.exec('nft', ['list', 'map', 'ip', 'weft', 'svcs-tcp-2'])).not.toContain('10.96.0.99');
      await kernel.update(`${valid}\n`);
      expect(await node.exec('nft', ['list', 'map', 'ip', 'weft', 'svcs-tcp-2'])).toContain('10.96.0.99');
    } finally {
      kernel.close();
    }
  });
});
