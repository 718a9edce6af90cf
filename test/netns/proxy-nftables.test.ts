import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runChecked } from '../../lib/exec.ts';
import { createLogger } from '../../lib/log.ts';
import type { ProxyConfig } from '../../proxy/config.ts';
import { parseObjectsText } from '../../proxy/load-objects.ts';
import { NftablesProxier } from '../../proxy/nftables-proxier.ts';
import { NetnsScope, type Netns } from '../support/netns.ts';
import { BACKENDS, bodies, CLIENT_IP, createProxyTopology, curl, NODE_IP, OBJECTS, POD_CIDR, slice } from './proxy-topology.ts';

// The nftables backend in the topology of proxy-topology.ts: `weft-proxy render --proxy-mode nftables`
// applied with `nft -f` in the node namespace and checked by traffic, then the proxier's own syncs:
// a full sync replacing that table, and partial syncs made of element changes.

const WEFT = fileURLToPath(new URL('../../bin/weft.ts', import.meta.url));
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
  let ext: Netns;
  let client: Netns;
  let pods: ReadonlyMap<string, Netns>;
  let udpClient: string;

  beforeAll(async () => {
    ({ node, ext, client, pods, udpClient } = await createProxyTopology(scope, dir));
    const objectsFile = join(dir, 'objects.yaml');
    writeFileSync(objectsFile, stringify(OBJECTS), { mode: 0o600 });
    const rendered = await runChecked(process.execPath, [WEFT, 'weft-proxy', 'render', '--proxy-mode', 'nftables', '--hostname-override', 'node-1', '--cluster-cidr', POD_CIDR, '--objects', objectsFile]);
    await node.exec('nft', ['-f', '-'], rendered.stdout);
  });

  afterAll(async () => {
    await scope.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a ClusterIP spreads 40 requests from a pod over both backends, keeping the pod as source', async () => {
    const got = await bodies(client, 'http://10.96.0.10/cgi-bin/who', 40);
    const a = got.filter((b) => b === `backend-a ${CLIENT_IP}`).length;
    const b = got.filter((b) => b === `backend-b ${CLIENT_IP}`).length;
    expect(a + b).toBe(40);
    // Each side gets at least 5 of 40 unless the spread is broken (chance below 1e-6 when even).
    expect(a).toBeGreaterThanOrEqual(5);
    expect(b).toBeGreaterThanOrEqual(5);
  });

  it('a UDP ClusterIP port answers from both backends, next to a TCP port of the same Service', async () => {
    const replies = (await client.exec(process.execPath, [udpClient, '10.96.0.10', '53', '16'])).trim().split('\n');
    expect(replies).toHaveLength(16);
    expect(new Set(replies)).toEqual(new Set([`backend-a ${CLIENT_IP}`, `backend-b ${CLIENT_IP}`]));
  });

  it('session affinity sends every request of one client to the same backend', async () => {
    const got = await bodies(client, 'http://10.96.0.11/cgi-bin/who', 12);
    expect(got[0]).toMatch(/^backend-[ab] /);
    expect(new Set(got)).toEqual(new Set([got[0]]));
  });

  it('traffic to a ClusterIP from outside the cluster CIDR is masqueraded', async () => {
    const got = await curl(ext, 'http://10.96.0.10/cgi-bin/who');
    expect(got.body).toMatch(/^backend-[ab] 10\.244\.0\.1$/);
  });

  it('a NodePort on the node address answers from the external namespace, masqueraded', async () => {
    const got = await bodies(ext, `http://${NODE_IP}:30080/cgi-bin/who`, 6);
    for (const body of got) expect(body).toMatch(/^backend-[ab] 10\.244\.0\.1$/);
  });

  it('a load-balancer IP admits a source in loadBalancerSourceRanges and drops another', async () => {
    const allowed = await curl(ext, 'http://10.200.0.10/cgi-bin/who', '--interface', '192.168.77.2');
    expect(allowed.body).toMatch(/^backend-[ab] /);
    const refused = await curl(ext, 'http://10.200.0.10/cgi-bin/who', '--interface', '192.168.77.3');
    expect(refused.code).toBe(28); // curl: timed out, the SYN was dropped
  });

  it('a Service without endpoints is refused at once, not left to time out', async () => {
    const got = await curl(client, 'http://10.96.0.14/');
    expect(got.code).toBe(7); // curl: failed to connect (connection refused)
    expect(got.ms).toBeLessThan(1000);
  });

  it('externalTrafficPolicy Local reaches only the local backend and keeps the client address', async () => {
    const got = await bodies(ext, `http://${NODE_IP}:30082/cgi-bin/who`, 10);
    expect(got).toEqual(Array(10).fill('backend-a 192.168.77.2'));
  });

  it('a backend reaching itself through its Service (hairpin) is masqueraded and answered', async () => {
    const got = await bodies(pods.get('a') as Netns, 'http://10.96.0.10/cgi-bin/who', 20);
    expect(got.every((b) => b === 'backend-a 10.244.0.1' || b === 'backend-b 10.244.0.2')).toBe(true);
    expect(got).toContain('backend-a 10.244.0.1');
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
