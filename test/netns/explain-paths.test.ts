import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSubnetVar } from '../../lab/node.ts';
import { NetnsScope } from '../support/netns.ts';
import {
  explain, explainAcross, HTTP_PORT, httpGet, NODE_PORT, SOLO_IP, startTroubleshootLab, stopTroubleshootLab, WEB_IP, type TroubleshootLab,
} from './troubleshoot-lab.ts';

// weft explain on working paths of a two-node lab, once per proxy mode: each path first proven by real
// traffic, then explained, then probed (one real packet followed with the kernel's own tracing) and
// the kernel's path compared with the prediction.

describe.each([
  { mode: 'iptables' as const, net: '172.30.93' },
  { mode: 'nftables' as const, net: '172.30.94' },
])('weft explain on working paths ($mode mode)', ({ mode, net }) => {
  const scope = new NetnsScope();
  let lab: TroubleshootLab;

  beforeAll(async () => {
    lab = await startTroubleshootLab(scope, { mode, net });
  });
  afterAll(() => stopTroubleshootLab(lab, scope));

  const expectProbeAgrees = (probe: { comparison?: { agrees: boolean; checks: readonly { same: boolean; what: string; predicted: string; observed: string }[] }; error?: string } | undefined) => {
    expect(probe?.error).toBeUndefined();
    const differences = probe?.comparison?.checks.filter((c) => !c.same).map((c) => `${c.what}: predicted ${c.predicted}, kernel ${c.observed}`);
    expect(differences).toEqual([]);
    expect(probe?.comparison?.agrees).toBe(true);
  };

  it('pod to pod on one node: bridged on cni0 and delivered to the pod\'s veth, as the kernel does', async () => {
    const [a, b] = [lab.pod('n1p1'), lab.pod('n1p2')];
    expect((await httpGet(a, `http://${b.ip}:${HTTP_PORT}/`)).body).toBe('n1p2');
    const { code, explanation } = await explain(lab, lab.node(1), ['--from', a.ip, '--to', `${b.ip}:${HTTP_PORT}`, '--probe']);
    expect(code).toBe(0);
    expect(explanation.proxyMode).toBe(mode);
    expect(explanation.branches.map((x) => x.outcome)).toEqual(['delivered']);
    expect(explanation.branches[0]?.hops.at(-1)?.summary).toContain(`container ${b.containerId}`);
    expectProbeAgrees(explanation.probe);
  });

  it('pod to pod across nodes: into the overlay with the peer\'s VTEP MAC and underlay address, delivered on the other node', async () => {
    const [a, c] = [lab.pod('n1p1'), lab.pod('n2p1')];
    expect((await httpGet(a, `http://${c.ip}:${HTTP_PORT}/`)).body).toBe('n2p1');
    const path = await explainAcross(lab, lab.node(1), ['--from', a.ip, '--to', `${c.ip}:${HTTP_PORT}`]);
    expect(path.map((p) => p.node)).toEqual(['node-1', 'node-2']);
    const overlay = path[0]?.explanation.branches[0]?.hops.find((h) => h.kind === 'overlay');
    expect(overlay?.evidence.join('\n')).toMatch(new RegExp(`FDB [0-9a-f:]{17} -> ${lab.node(2).ip}`));
    expect(path[1]?.explanation.branches.map((b) => b.outcome)).toEqual(['delivered']);
    const { explanation } = await explain(lab, lab.node(1), ['--from', a.ip, '--to', `${c.ip}:${HTTP_PORT}`, '--probe']);
    expectProbeAgrees(explanation.probe);
  });

  it('pod to ClusterIP: DNAT to either endpoint with probability one half, each path delivered or handed on', async () => {
    const b = lab.pod('n1p2');
    const bodies = new Set<string>();
    for (let i = 0; i < 12 && bodies.size < 2; i++) bodies.add((await httpGet(b, `http://${WEB_IP}/`)).body);
    expect(bodies).toEqual(new Set(['n1p1', 'n2p1']));
    const { code, explanation } = await explain(lab, lab.node(1), ['--from', b.ip, '--to', `${WEB_IP}:80`, '--probe']);
    expect(code).toBe(0);
    expect(explanation.branches.map((x) => [x.to, x.probability, x.outcome]).sort()).toEqual(
      [
        [`${lab.pod('n1p1').ip}:${HTTP_PORT}`, 0.5, 'delivered'],
        [`${lab.pod('n2p1').ip}:${HTTP_PORT}`, 0.5, 'leaves'],
      ].sort(),
    );
    const service = explanation.hops.find((h) => h.kind === 'service');
    expect(service?.summary).toContain('one of 2 endpoints');
    // iptables rules name the Service in their comments, nftables set elements in theirs.
    expect(service?.title).toBe('PREROUTING DNAT (default/web:http)');
    expectProbeAgrees(explanation.probe);
  });

  it('NodePort from the underlay: DNAT and masquerade on the node, to either endpoint', async () => {
    const node = lab.node(1);
    expect(['n1p1', 'n2p1']).toContain((await httpGet(lab.cluster.underlay, `http://${node.ip}:${NODE_PORT}/`)).body);
    const { code, explanation } = await explain(lab, node, ['--from', lab.outsideIp, '--to', `${node.ip}:${NODE_PORT}`]);
    expect(code).toBe(0);
    expect(explanation.source.origin).toBe('remote');
    expect(explanation.branches.map((b) => b.outcome).sort()).toEqual(['delivered', 'leaves']);
    // Cluster policy: the client's address is masqueraded to the node's own on the way out.
    for (const branch of explanation.branches) expect(branch.exit?.src).toMatch(/^10\.244\.\d+\.[01]$/);
    expect(explanation.hops.find((h) => h.kind === 'service')?.title).toBe('PREROUTING DNAT (default/web:http)');
    // The underlay host is not on the node, so the probe sends from the node itself to its node port.
    const probed = await explain(lab, node, ['--from', node.ip, '--to', `${node.ip}:${NODE_PORT}`, '--probe']);
    expectProbeAgrees(probed.explanation.probe);
  });

  it('hairpin: a pod reaching itself through its Service, masqueraded and back through its own port', async () => {
    const a = lab.pod('n1p1');
    expect((await httpGet(a, `http://${SOLO_IP}/`)).body).toBe('n1p1');
    const { code, explanation } = await explain(lab, lab.node(1), ['--from', a.ip, '--to', `${SOLO_IP}:80`, '--probe']);
    expect(code).toBe(0);
    const [branch] = explanation.branches;
    expect(branch?.outcome).toBe('delivered');
    expect(explanation.hops.find((h) => h.kind === 'service')?.title).toBe('PREROUTING DNAT (default/solo:http)');
    expect(branch?.exit?.src).toBe(readSubnetVar(lab.node(1), 'FLANNEL_SUBNET')?.split('/')[0]);
    expect(branch?.hops.some((h) => h.kind === 'netfilter' && /masquerade/.test(h.summary))).toBe(true);
    expectProbeAgrees(explanation.probe);
  });
});
