import { describe, expect, it } from 'vitest';
import type { Explanation } from '../../../troubleshoot/model/explanation.ts';
import { explainPacket, type ExplainRequest } from '../../../troubleshoot/path/explain.ts';
import { NodeView } from '../../../troubleshoot/path/node-view.ts';
import { parseRestoreText } from '../../../troubleshoot/netfilter/iptables-ruleset.ts';
import type { KernelState } from '../../../troubleshoot/state/kernel-state.ts';
import type { NodeState } from '../../../troubleshoot/state/node-state.ts';
import { labNode, podsOf } from './lab-fixture.ts';

// The explanation's core on two real nodes' state (see lab-fixture.ts): working paths in both proxy
// modes, then each cause, made by changing exactly one thing in the state.

const [node1, node2] = [labNode(1), labNode(2)];
const [a, b] = podsOf(node1) as [string, string];
const [c] = podsOf(node2) as [string];
const WEB = { dst: '10.96.0.10', dport: 80 };

function explain(state: NodeState, request: Partial<ExplainRequest> & Pick<ExplainRequest, 'src' | 'dst'>): Explanation {
  return explainPacket(new NodeView(state), { proto: 'tcp', ...request });
}

function withKernel(state: NodeState, change: (k: KernelState) => Partial<KernelState>): NodeState {
  return { ...state, kernel: { ...state.kernel, ...change(state.kernel) } };
}

function withSysctl(state: NodeState, key: string, value: string): NodeState {
  return withKernel(state, (k) => ({ sysctls: new Map([...k.sysctls, [key, value]]) }));
}

const causes = (e: Explanation) => e.verdict.causes.map((x) => x.code);

describe('explaining working paths', () => {
  it('pod to ClusterIP in iptables mode: either endpoint with probability one half, one delivered here, one handed to the other node', () => {
    const e = explain(node1, { src: a, ...WEB });
    expect(e.proxyMode).toBe('iptables');
    expect(e.branches.map((x) => [x.to, x.probability, x.outcome]).sort()).toEqual([
      [`${a}:8080`, 0.5, 'delivered'],
      [`${c}:8080`, 0.5, 'leaves'],
    ].sort());
    const remote = e.branches.find((x) => x.outcome === 'leaves');
    expect(remote?.handoff).toEqual({ node: node2.weft.publicIp, device: 'weft.1', packet: { src: remote?.exit?.src, dst: c, dport: 8080, proto: 'tcp', size: 1450 } });
    expect(remote?.hooks).toEqual(['prerouting', 'forward', 'postrouting']);
    expect(e.verdict.kind).toBe('delivered');
    expect(e.hops.find((h) => h.kind === 'service')?.title).toBe('PREROUTING DNAT (default/web:http)');
  });

  it('pod to ClusterIP in nftables mode: the same two endpoints from the grouped maps', () => {
    const [d] = podsOf(node2) as [string];
    const e = explain(node2, { src: d, ...WEB });
    expect(e.proxyMode).toBe('nftables');
    expect(e.branches.map((x) => [x.to, x.probability]).sort()).toEqual([[`${a}:8080`, 0.5], [`${c}:8080`, 0.5]].sort());
    const service = e.hops.find((h) => h.kind === 'service');
    expect(service?.evidence.some((line) => line.includes('numgen random mod 2'))).toBe(true);
    expect(service?.title).toBe('PREROUTING DNAT (default/web:http)');
  });

  it('a packet arriving through the overlay is delivered to its pod', () => {
    const e = explain(node2, { src: a, dst: c, dport: 8080, in: 'weft.1' });
    expect(e.source).toMatchObject({ origin: 'remote', iif: 'weft.1' });
    expect(e.branches.map((x) => x.outcome)).toEqual(['delivered']);
  });

  it('pod to pod on one node is bridged, with no routing decision to fail', () => {
    const e = explain(withSysctl(node1, 'net/ipv4/conf/cni0/forwarding', '0'), { src: a, dst: b, dport: 8080 });
    expect(e.branches.map((x) => [x.outcome, x.hooks])).toEqual([['delivered', ['prerouting', 'forward', 'postrouting']]]);
  });
});

describe('what the node cannot tell', () => {
  it('without host-local\'s store (no readable CNI config) a pod it never spoke to is assumed there, not reported missing', () => {
    const blind = withKernel({ ...node1, weft: { ...node1.weft, allocations: [] } }, (k) => ({ neighbours: k.neighbours.filter((n) => n.dev !== 'cni0') }));
    const e = explain(blind, { src: a, dst: b, dport: 8080 });
    expect(e.branches.map((x) => [x.outcome, x.hops.at(-1)?.summary])).toEqual([['delivered', "onto cni0; the pod's port is not known"]]);
  });
});

describe('naming what breaks a path', () => {
  const across = { src: a, dst: c, dport: 8080 };

  it('a missing FDB entry', () => {
    const e = explain(withKernel(node1, (k) => ({ fdb: k.fdb.filter((f) => f.dev !== 'weft.1') })), across);
    expect(causes(e)).toEqual(['no-fdb']);
  });

  it('a missing neighbour entry', () => {
    const e = explain(withKernel(node1, (k) => ({ neighbours: k.neighbours.filter((n) => n.dev !== 'weft.1') })), across);
    expect(causes(e)).toEqual(['no-neighbour']);
  });

  it('a VXLAN device MTU the pods\' packets do not fit, with the MTU it should have', () => {
    const e = explain(withKernel(node1, (k) => ({ links: k.links.map((l) => (l.name === 'weft.1' ? { ...l, mtu: 1400 } : l)) })), across);
    expect(causes(e)).toEqual(['mtu']);
    expect(e.verdict.causes[0]?.fix).toBe('ip link set weft.1 mtu 1450 (or restart weftd)');
  });

  it('forwarding turned off', () => {
    const e = explain(withSysctl(node1, 'net/ipv4/conf/cni0/forwarding', '0'), across);
    expect(causes(e)).toEqual(['forwarding-off']);
  });

  it('strict reverse-path filtering on the VXLAN device for a source routed back elsewhere', () => {
    const outside = node2.kernel.routes.find((r) => r.dev === 'eth0' && r.dst.includes('/'))?.dst.replace(/0\/24$/, '254') ?? '';
    const e = explain(withSysctl(node2, 'net/ipv4/conf/weft.1/rp_filter', '1'), { src: outside, dst: c, dport: 8080, in: 'weft.1' });
    expect(causes(e)).toEqual(['rp-filter']);
    expect(e.verdict.causes[0]?.fix).toBe('sysctl -w net.ipv4.conf.weft/1.rp_filter=2 (loose)');
  });

  it('a Service without endpoints, named in both modes', () => {
    const [d] = podsOf(node2) as [string];
    for (const e of [explain(node1, { src: a, dst: '10.96.0.11', dport: 80 }), explain(node2, { src: d, dst: '10.96.0.11', dport: 80 })]) {
      expect(causes(e)).toEqual(['no-endpoints']);
      expect(e.verdict.causes[0]?.message).toMatch(/^Service default\/empty:http has no endpoints/);
    }
  });

  it('a deleted proxy rule: the Service address is known to the proxy but nothing translates it', () => {
    const saved = [...node1.rulesets.iptablesNft.get('nat')?.get('WEFT-SERVICES')?.rules ?? []].filter((r) => !r.line.includes('-d 10.96.0.10/32'));
    const nat = new Map(node1.rulesets.iptablesNft.get('nat'));
    nat.set('WEFT-SERVICES', { rules: saved });
    const broken = { ...node1, rulesets: { ...node1.rulesets, iptablesNft: new Map([...node1.rulesets.iptablesNft, ['nat', nat]]) } };
    expect(causes(explain(broken, { src: a, ...WEB }))).toEqual(['missing-proxy-rule']);
  });

  it('a stray iptables-legacy rule beside nft', () => {
    const legacy = parseRestoreText(`*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -d ${c}/32 -j DROP\nCOMMIT\n`);
    const e = explain({ ...node1, rulesets: { ...node1.rulesets, iptablesLegacy: legacy } }, across);
    expect(causes(e)).toEqual(['iptables-backends']);
    expect(e.notes.some((n) => n.startsWith('iptables-legacy holds 1 rule(s) (filter FORWARD (1))'))).toBe(true);
  });

  it('a leaked allocation: the address is allocated but its pod\'s interface is gone', () => {
    const e = explain(withKernel(node1, (k) => ({ links: k.links.filter((l) => !l.alias?.includes('id=wx-n1p2 ')) })), { src: a, dst: b, dport: 8080 });
    expect(causes(e)).toEqual(['leaked-address']);
  });

  it('hairpin off when a pod reaches itself through a Service', () => {
    const off = withKernel(node1, (k) => ({ links: k.links.map((l) => (l.bridgePort ? { ...l, bridgePort: { ...l.bridgePort, hairpin: false } } : l)) }));
    const e = explain(off, { src: a, ...WEB });
    expect(e.branches.find((x) => x.to === `${a}:8080`)?.cause?.code).toBe('hairpin-off');
    expect(e.verdict.kind).toBe('partly');
  });

  it('bridge netfilter off: a Service answered by a pod on the same bridge gets untranslated replies', () => {
    const e = explain(withSysctl(node1, 'net/bridge/bridge-nf-call-iptables', '0'), { src: b, ...WEB });
    expect(e.branches.find((x) => x.to === `${a}:8080`)?.cause?.code).toBe('br-netfilter-off');
  });

  it('no route', () => {
    const e = explain(withKernel(node1, (k) => ({ routes: k.routes.filter((r) => r.dev !== 'weft.1' && r.dst !== 'default') })), across);
    expect(causes(e)).toEqual(['no-route']);
  });
});
