import { describe, expect, it } from 'vitest';
import { renderIptables } from '../../../proxy/iptables/render.ts';
import { parseRestoreText, tokenize, tracePacket, type TracePacket } from '../../../proxy/iptables/tracer.ts';
import type { ServicePortState } from '../../../proxy/core/state.ts';
import { CONFIG, EP1, EP2, LOCAL, NODE_IP, servicePort } from './fixtures.ts';

// Behaviour of the whole rendered ruleset, read as "this packet ends up there".

const POD = '10.180.0.7';
const OUTSIDE = '192.168.50.9';

function traceWith(ports: ServicePortState[], packet: Partial<TracePacket> & Pick<TracePacket, 'dst' | 'dport'>, config = CONFIG): string {
  const text = renderIptables({ servicePorts: ports, skipped: [] }, config);
  return tracePacket(text, { src: POD, proto: 'tcp', from: 'pod', ...packet }, LOCAL);
}

describe('the tracer on rendered rules', () => {
  it('a pod reaching a ClusterIP may land on either endpoint, with its own source address', () => {
    expect(traceWith([servicePort()], { dst: '172.30.0.41', dport: 80 })).toBe('DNAT to 10.180.0.1:8080 | 10.180.0.2:8080');
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

  it('the same port over TCP and UDP goes to each protocol\'s own endpoints', () => {
    const tcp = servicePort({ key: 'ns1/dns:tcp', port: 53, clusterEndpoints: [EP1], localEndpoints: [] });
    const udp = servicePort({ key: 'ns1/dns:udp', port: 53, protocol: 'udp', clusterEndpoints: [{ ...EP2, port: 5353 }], localEndpoints: [] });
    expect(traceWith([tcp, udp], { dst: '172.30.0.41', dport: 53 })).toBe('DNAT to 10.180.0.1:8080');
    expect(traceWith([tcp, udp], { dst: '172.30.0.41', dport: 53, proto: 'udp' })).toBe('DNAT to 10.180.0.2:5353');
  });
});

describe('the tracer itself', () => {
  it('reads quoted comments as one token and -I as an insert at the head', () => {
    expect(tokenize('-A X -m comment --comment "a b" -j Y')).toEqual(['-A', 'X', '-m', 'comment', '--comment', 'a b', '-j', 'Y']);
    const rules = parseRestoreText('*nat\n-A PREROUTING -j A\n-I PREROUTING -j B\nCOMMIT\n').get('nat')?.get('PREROUTING');
    expect(rules).toEqual([['-j', 'B'], ['-j', 'A']]);
  });

  it('refuses a match it does not understand rather than guessing', () => {
    expect(() => tracePacket('*nat\n-A PREROUTING --sport 5 -j DNAT --to-destination 1.2.3.4:5\nCOMMIT\n', { src: POD, dst: '1.1.1.1', dport: 1, proto: 'tcp', from: 'pod' }, LOCAL)).toThrow(
      'unknown match option "--sport"',
    );
  });
});
