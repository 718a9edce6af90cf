import { describe, expect, it } from 'vitest';
import { kubeProxyEndpointChain } from '../../../bench/proxy-implementations.ts';
import { changedAddresses, clusterIP, endpointAddresses, generateObjects, replacementIP } from '../../../bench/proxy-objects.ts';
import { buildProxyState } from '../../../proxy/core/state.ts';
import { parseClusterObjects } from '../../../proxy/core/objects.ts';

const config = { hostname: 'bench-node', clusterCidr: '10.244.0.0/16', masqueradeMark: 0x4000, nodePortAddresses: [] };

describe('bench:proxy generated cluster', () => {
  it('gives every Service its own ClusterIP and endpoints, all distinct across 10,000 Services x 10', () => {
    const ips = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      ips.add(clusterIP(i));
      for (const ip of endpointAddresses(i, 10)) ips.add(ip);
    }
    expect(ips.size).toBe(110_000);
    expect(clusterIP(0)).toBe('10.96.4.0');
    expect(clusterIP(9_999)).toBe('10.96.43.15');
    expect(endpointAddresses(9_999, 10).at(-1)).toBe('10.161.134.159');
  });

  it('parses into one service port per Service with all its endpoints', () => {
    const state = buildProxyState(parseClusterObjects({ kind: 'List', items: generateObjects({ from: 0, to: 3 }, 4) }), config);
    expect(state.servicePorts.map((sp) => [sp.key, sp.clusterIP, sp.clusterEndpoints.length])).toEqual([
      ['default/bench-00000:http', '10.96.4.0', 4],
      ['default/bench-00001:http', '10.96.4.1', 4],
      ['default/bench-00002:http', '10.96.4.2', 4],
    ]);
  });

  it('changes exactly one endpoint, to an address no generated endpoint has', () => {
    const before = endpointAddresses(7, 10);
    const after = changedAddresses(7, 10, 3);
    expect(after.slice(0, -1)).toEqual(before.slice(0, -1));
    expect(after.at(-1)).toBe(replacementIP(3));
    expect(replacementIP(3)).toBe('10.192.0.4');
  });

  it("names kube-proxy's per-endpoint chain as kube-proxy v1.34 does (value seen in its iptables-save)", () => {
    expect(kubeProxyEndpointChain(0, '10.160.0.0')).toBe('KUBE-SEP-3KYZANPXVGU3LQ3W');
  });
});
