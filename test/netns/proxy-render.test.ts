import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsScope, type Netns } from '../support/netns.ts';
import { applyRenderedRules, bodies, CLIENT_IP, createProxyTopology, curl, NODE_IP } from './proxy-topology.ts';

// `weft-proxy render` output, for each packet-filter mode, applied inside a "node" namespace
// (iptables-restore --noflush, or nft -f) and checked by the same traffic in the topology of proxy-topology.ts.

describe.each(['iptables', 'nftables'] as const)('weft-proxy render --proxy-mode %s applied in a node namespace', (mode) => {
  const scope = new NetnsScope();
  const dir = mkdtempSync(join(tmpdir(), 'weft-proxy-'));
  let node: Netns;
  let ext: Netns;
  let client: Netns;
  let pods: ReadonlyMap<string, Netns>;
  let udpClient: string;

  beforeAll(async () => {
    ({ node, ext, client, pods, udpClient } = await createProxyTopology(scope, dir));
    await applyRenderedRules(node, { dir, mode });
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
});
