import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log.ts';
import type { ProxyConfig } from '../../proxy/config.ts';
import { parseObjectsText } from '../../proxy/load-objects.ts';
import { NftablesProxier } from '../../proxy/nftables-proxier.ts';
import { NetnsScope, type Netns } from '../support/netns.ts';
import { applyRenderedRules, BACKENDS, bodies, CLIENT_IP, createProxyTopology, curl, OBJECTS, POD_CIDR, slice } from './proxy-topology.ts';

// The nftables proxier's own syncs in the topology of proxy-topology.ts, starting from the rendered table
// (whose traffic cases proxy-render.test.ts checks for both modes):
// a full sync replacing that table, and partial syncs made of element changes.

const CONFIG: ProxyConfig = { hostname: 'node-1', clusterCidr: POD_CIDR, masqueradeMark: 0x4000, nodePortAddresses: [] };
const NO_CHANGES = { services: new Set<string>(), node: false, triggerTimes: [] };

/** OBJECTS with the slices of `name` replaced (undefined: removed). */
function withSlice(items: readonly unknown[], name: string, replacement?: unknown): unknown[] {
  const others = items.filter((o) => !((o as { kind: string; metadata: { name: string } }).kind === 'EndpointSlice' && (o as { metadata: { name: string } }).metadata.name === `${name}-x1`));
  return replacement ? [...others, replacement] : others;
}

function objects(items: readonly unknown[]) {
  return parseObjectsText(JSON.stringify({ ...OBJECTS, items }), 'test');
}

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
    await scope.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('proxier syncs', () => {
    const proxier = new NftablesProxier({ log: createLogger({ component: 'test', level: 'error' }), get netns() { return node.path; } });
    let items: unknown[] = [...OBJECTS.items];

    it('a full sync replaces the rendered table atomically and keeps serving', async () => {
      const outcome = await proxier.sync('full', objects(items), { config: CONFIG, changes: NO_CHANGES });
      expect(outcome.payload.startsWith('add table ip weft\ndelete table ip weft\n')).toBe(true);
      expect((await bodies(client, 'http://10.96.0.10/cgi-bin/who', 4)).every((b) => /^backend-[ab] /.test(b))).toBe(true);
      expect((await node.exec('nft', ['list', 'tables'])).trim()).toBe('table ip weft');
    });

    it('endpoints for a Service that had none are element changes only, and it then answers', async () => {
      items = withSlice(items, 'empty', slice('empty'));
      const outcome = await proxier.sync('partial', objects(items), { config: CONFIG, changes: { ...NO_CHANGES, services: new Set(['default/empty']) } });
      const verbs = new Set(outcome.payload.trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' ')));
      expect(verbs).toEqual(new Set(['add element', 'delete element']));
      const got = await bodies(client, 'http://10.96.0.14/cgi-bin/who', 10);
      expect(got.every((b) => /^backend-[ab] /.test(b))).toBe(true);
    });

    it('a Service losing an endpoint moves to the one-endpoint group and sends nothing to the removed backend', async () => {
      const [a] = BACKENDS;
      items = withSlice(items, 'web', slice('web', [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'echo', port: 5353, protocol: 'UDP' }], [a]));
      const outcome = await proxier.sync('partial', objects(items), { config: CONFIG, changes: { ...NO_CHANGES, services: new Set(['default/web']) } });
      expect(outcome.payload).toContain('add set ip weft svcs-1');
      expect(outcome.payload).not.toContain('delete table');
      expect(await bodies(client, 'http://10.96.0.10/cgi-bin/who', 12)).toEqual(Array(12).fill(`backend-a ${CLIENT_IP}`));
    });

    it('a Service losing all endpoints is refused again, and an emptied group is removed', async () => {
      items = withSlice(withSlice(items, 'web'), 'empty');
      const outcome = await proxier.sync('partial', objects(items), { config: CONFIG, changes: { ...NO_CHANGES, services: new Set(['default/web', 'default/empty']) } });
      expect(outcome.payload).toContain('delete set ip weft svcs-1');
      expect(outcome.payload).toContain('delete chain ip weft group-1');
      const got = await curl(client, 'http://10.96.0.14/');
      expect(got.code).toBe(7);
      expect((await curl(client, 'http://10.96.0.10/')).code).toBe(7);
      expect(await node.exec('nft', ['list', 'sets', 'ip'])).not.toContain('svcs-1');
    });
  });
});
