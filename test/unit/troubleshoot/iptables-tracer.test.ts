import { describe, expect, it } from 'vitest';
import { renderIptables } from '../../../proxy/iptables/render.ts';
import type { ServicePortState } from '../../../proxy/core/state.ts';
import type { Branch, Flow, NodeFacts } from '../../../troubleshoot/netfilter/flow.ts';
import { walkHook } from '../../../troubleshoot/netfilter/hooks.ts';
import { parseRestoreText, tokenize } from '../../../troubleshoot/netfilter/iptables-ruleset.ts';
import { IptablesEvaluator } from '../../../troubleshoot/netfilter/iptables-tracer.ts';
import { CONFIG, EP1, EP2, LOCAL, NODE_IP, servicePort } from '../proxy/fixtures.ts';

// The tracer on weft-proxy's rendered rules, read as "this packet ends up there": every Service
// flavour the renderer emits, walked hook by hook as the kernel would.

const POD = '10.180.0.7';
const OUTSIDE = '192.168.50.9';

interface TracePacket {
  readonly src?: string;
  readonly dst: string;
  readonly dport: number;
  readonly proto?: 'tcp' | 'udp';
  /** A pod or an external host arrives through PREROUTING; the node's own traffic starts in OUTPUT. */
  readonly from?: 'pod' | 'node' | 'external';
}

const facts: NodeFacts = { isLocal: (ip) => LOCAL.localAddresses.includes(ip), masqueradeSource: () => undefined };

function start(flow: Partial<Flow> & Pick<Flow, 'src' | 'dst'>): Branch {
  return { probability: 1, flow: { proto: 'tcp', mark: 0, dnat: false, snat: false, ...flow }, hits: [], notes: [] };
}

/** "DNAT to A | B (masquerade)", "REJECT", "DROP" or "no match", with probabilities when they are not even. */
function traceText(text: string, packet: TracePacket): string {
  const evaluators = [new IptablesEvaluator(parseRestoreText(text), 'iptables-nft')];
  const from = packet.from ?? 'pod';
  const first = walkHook(evaluators, from === 'node' ? 'output' : 'prerouting', [start({ src: packet.src ?? POD, dst: packet.dst, dport: packet.dport, proto: packet.proto ?? 'tcp' })], facts);
  const filtered = first.accepted.flatMap((b) => (from === 'node' ? [b] : walkHook(evaluators, facts.isLocal(b.flow.dst) ? 'input' : 'forward', [b], facts).accepted));
  const stopped = [...first.stopped, ...first.accepted.flatMap((b) => (from === 'node' ? [] : walkHook(evaluators, facts.isLocal(b.flow.dst) ? 'input' : 'forward', [b], facts).stopped))];
  if (filtered.length === 0) return stopped[0]?.end === 'reject' ? 'REJECT' : 'DROP';
  if (!filtered.some((b) => b.flow.dnat)) return 'no match';
  const shown = filtered.map((b) => {
    const post = walkHook(evaluators, 'postrouting', [b], facts).accepted[0];
    return `${b.flow.dst}:${b.flow.dport}${post?.flow.snat ? ' (masquerade)' : ''}`;
  });
  return `DNAT to ${shown.join(' | ')}`;
}

function traceWith(ports: ServicePortState[], packet: TracePacket, config = CONFIG): string {
  return traceText(renderIptables({ servicePorts: ports, skipped: [] }, config), packet);
}

describe('the iptables tracer on rendered rules', () => {
  it('a pod reaching a ClusterIP may land on either endpoint, each with probability one half', () => {
    expect(traceWith([servicePort()], { dst: '172.30.0.41', dport: 80 })).toBe('DNAT to 10.180.0.1:8080 | 10.180.0.2:8080');
    const evaluators = [new IptablesEvaluator(parseRestoreText(renderIptables({ servicePorts: [servicePort()], skipped: [] }, CONFIG)), 'iptables-nft')];
    const result = walkHook(evaluators, 'prerouting', [start({ src: POD, dst: '172.30.0.41', dport: 80 })], facts);
    expect(result.accepted.map((b) => [b.flow.dst, b.probability])).toEqual([['10.180.0.1', 0.5], ['10.180.0.2', 0.5]]);
    // The dispatch rule's comment names the Service; the endpoint rules carry none.
    for (const b of result.accepted) expect([...new Set(b.hits.flatMap((h) => (h.service ? [`${h.chain.replace(/-[A-Z2-7]{16}$/, '')} ${h.service}`] : [])))]).toEqual(['WEFT-SERVICES ns1/web:http']);
  });

  it('a ClusterIP reached from outside the cluster CIDR is masqueraded', () => {
    expect(traceWith([servicePort()], { src: OUTSIDE, from: 'external', dst: '172.30.0.41', dport: 80 })).toBe('DNAT to 10.180.0.1:8080 (masquerade) | 10.180.0.2:8080 (masquerade)');
  });

  it('an endpoint reaching itself through its Service is masqueraded, reaching the other one is not', () => {
    expect(traceWith([servicePort()], { src: EP1.ip, dst: '172.30.0.41', dport: 80 })).toBe('DNAT to 10.180.0.1:8080 (masquerade) | 10.180.0.2:8080');
  });

  it('a Service without endpoints is rejected at its ClusterIP and its node port', () => {
    const empty = servicePort({ clusterEndpoints: [], localEndpoints: [], nodePort: 30001 });
    expect(traceWith([empty], { dst: '172.30.0.41', dport: 80 })).toBe('REJECT');
    expect(traceWith([empty], { src: OUTSIDE, from: 'external', dst: NODE_IP, dport: 30001 })).toBe('REJECT');
  });

  it('a node port answers on the node address, from outside and from the node itself, masqueraded', () => {
    const np = servicePort({ nodePort: 30001 });
    const both = 'DNAT to 10.180.0.1:8080 (masquerade) | 10.180.0.2:8080 (masquerade)';
    expect(traceWith([np], { src: OUTSIDE, from: 'external', dst: NODE_IP, dport: 30001 })).toBe(both);
    expect(traceWith([np], { src: NODE_IP, from: 'node', dst: NODE_IP, dport: 30001 })).toBe(both);
  });

  it('a node port outside --nodeport-addresses is not served', () => {
    const config = { ...CONFIG, nodePortAddresses: ['10.9.0.0/16'] };
    expect(traceWith([servicePort({ nodePort: 30001 })], { src: OUTSIDE, from: 'external', dst: NODE_IP, dport: 30001 }, config)).toBe('no match');
  });

  it('externalTrafficPolicy Local keeps external clients on local endpoints and unmasqueraded; pods still reach all', () => {
    const local = servicePort({ nodePort: 30001, externalTrafficLocal: true });
    expect(traceWith([local], { src: OUTSIDE, from: 'external', dst: NODE_IP, dport: 30001 })).toBe('DNAT to 10.180.0.1:8080');
    expect(traceWith([local], { dst: NODE_IP, dport: 30001 })).toBe('DNAT to 10.180.0.1:8080 | 10.180.0.2:8080');
  });

  it('externalTrafficPolicy Local without local endpoints drops external clients but serves pods', () => {
    const local = servicePort({ nodePort: 30001, externalTrafficLocal: true, localEndpoints: [] });
    expect(traceWith([local], { src: OUTSIDE, from: 'external', dst: NODE_IP, dport: 30001 })).toBe('DROP');
    expect(traceWith([local], { dst: NODE_IP, dport: 30001 })).toBe('DNAT to 10.180.0.1:8080 | 10.180.0.2:8080');
  });

  it('internalTrafficPolicy Local sends ClusterIP traffic to local endpoints only, and drops it without any', () => {
    expect(traceWith([servicePort({ internalTrafficLocal: true })], { dst: '172.30.0.41', dport: 80 })).toBe('DNAT to 10.180.0.1:8080');
    expect(traceWith([servicePort({ internalTrafficLocal: true, localEndpoints: [] })], { dst: '172.30.0.41', dport: 80 })).toBe('DROP');
  });

  it('a load-balancer IP admits sources in loadBalancerSourceRanges and drops the others', () => {
    const lb = servicePort({ loadBalancerIPs: ['192.168.5.5'], loadBalancerSourceRanges: ['192.168.50.0/24'] });
    expect(traceWith([lb], { src: OUTSIDE, from: 'external', dst: '192.168.5.5', dport: 80 })).toBe('DNAT to 10.180.0.1:8080 (masquerade) | 10.180.0.2:8080 (masquerade)');
    expect(traceWith([lb], { src: '192.168.51.1', from: 'external', dst: '192.168.5.5', dport: 80 })).toBe('DROP');
  });

  it('an externalIP is served like a node port, and other ports of that address are left alone', () => {
    const ext = servicePort({ externalIPs: ['192.168.9.9'] });
    expect(traceWith([ext], { src: OUTSIDE, from: 'external', dst: '192.168.9.9', dport: 80 })).toBe('DNAT to 10.180.0.1:8080 (masquerade) | 10.180.0.2:8080 (masquerade)');
    expect(traceWith([ext], { src: OUTSIDE, from: 'external', dst: '192.168.9.9', dport: 81 })).toBe('no match');
  });

  it("the same port over TCP and UDP goes to each protocol's own endpoints", () => {
    const tcp = servicePort({ key: 'ns1/dns:tcp', port: 53, clusterEndpoints: [EP1], localEndpoints: [] });
    const udp = servicePort({ key: 'ns1/dns:udp', port: 53, protocol: 'udp', clusterEndpoints: [{ ...EP2, port: 5353 }], localEndpoints: [] });
    expect(traceWith([tcp, udp], { dst: '172.30.0.41', dport: 53 })).toBe('DNAT to 10.180.0.1:8080');
    expect(traceWith([tcp, udp], { dst: '172.30.0.41', dport: 53, proto: 'udp' })).toBe('DNAT to 10.180.0.2:5353');
  });

  it('session affinity is noted, and a first packet is spread like any other', () => {
    const text = renderIptables({ servicePorts: [servicePort({ affinitySeconds: 60 })], skipped: [] }, CONFIG);
    const result = walkHook([new IptablesEvaluator(parseRestoreText(text), 'iptables-nft')], 'prerouting', [start({ src: POD, dst: '172.30.0.41', dport: 80 })], facts);
    expect(result.accepted.map((b) => b.flow.dst)).toEqual(['10.180.0.1', '10.180.0.2']);
    expect(result.accepted[0]?.notes.join(' ')).toContain('session affinity');
  });
});

describe('the iptables tracer on what iptables-save prints', () => {
  it('reads quoted comments as one token and -I as an insert at the head', () => {
    expect(tokenize('-A X -m comment --comment "a b" -j Y')).toEqual(['-A', 'X', '-m', 'comment', '--comment', 'a b', '-j', 'Y']);
    const rules = parseRestoreText('*nat\n-A PREROUTING -j A\n-I PREROUTING -j B\nCOMMIT\n').get('nat')?.get('PREROUTING')?.rules.map((r) => r.tokens);
    expect(rules).toEqual([['-j', 'B'], ['-j', 'A']]);
  });

  it('reports a rule with a match it does not know instead of guessing, and goes on', () => {
    const text = '*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m physdev --physdev-is-bridged -j DROP\nCOMMIT\n';
    const result = walkHook([new IptablesEvaluator(parseRestoreText(text), 'iptables-nft')], 'forward', [start({ src: POD, dst: '10.180.0.2', dport: 80 })], facts);
    expect(result.accepted).toHaveLength(1);
    expect(result.accepted[0]?.notes[0]).toMatch(/rule not evaluated \(--physdev-is-bridged\).*it may drop this packet/);
  });

  it('applies a chain policy, MARK --set-xmark and the mark match as iptables-save writes them', () => {
    const text = [
      '*filter', ':FORWARD DROP [0:0]', '-A FORWARD -s 10.180.0.0/16 -j MARK --set-xmark 0x4000/0x4000', '-A FORWARD -m mark --mark 0x4000/0x4000 -p tcp -m tcp --dport 80 -j ACCEPT', 'COMMIT', '',
    ].join('\n');
    const evaluators = [new IptablesEvaluator(parseRestoreText(text), 'iptables-nft')];
    expect(walkHook(evaluators, 'forward', [start({ src: POD, dst: '10.9.0.1', dport: 80 })], facts).accepted).toHaveLength(1);
    const denied = walkHook(evaluators, 'forward', [start({ src: POD, dst: '10.9.0.1', dport: 81 })], facts);
    expect(denied.stopped.map((s) => [s.end, s.by?.action])).toEqual([['drop', 'policy DROP']]);
  });
});
