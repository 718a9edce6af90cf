import { describe, expect, it } from 'vitest';
import { serviceChainName, affinityListName } from '../../../../proxy/core/service-names.ts';
import { buildNftTable } from '../../../../proxy/nftables/render.ts';
import { renderFullSync, type NftTable } from '../../../../proxy/nftables/table.ts';
import type { ServicePortState } from '../../../../proxy/core/state.ts';
import { CONFIG, EP1, EP2, EP3, servicePort } from '../fixtures.ts';

function table(...servicePorts: ServicePortState[]): NftTable {
  return buildNftTable({ servicePorts, skipped: [] }, CONFIG);
}

function elements(t: NftTable, name: string): readonly string[] | undefined {
  return t.sets.find((s) => s.name === name)?.elements;
}

function rules(t: NftTable, name: string): readonly string[] | undefined {
  return t.chains.find((c) => c.name === name)?.rules;
}

const NODE_PORT = servicePort({ key: 'ns1/np:http', service: 'ns1/np', clusterIP: '172.30.0.42', nodePort: 30080, externalIPs: ['192.0.2.7'], clusterEndpoints: [EP1, EP2, EP3] });

describe('buildNftTable', () => {
  it('puts a Cluster-policy port in its endpoint-count group as elements only, with no chain of its own', () => {
    const t = table(servicePort());
    expect(elements(t, 'svcs-tcp-2')).toEqual(['172.30.0.41 . 80 comment "ns1/web:http" : 8080']);
    expect(elements(t, 'eps-tcp-2')).toEqual(['172.30.0.41 . 80 . 0 : 10.180.0.1', '172.30.0.41 . 80 . 1 : 10.180.0.2']);
    expect(elements(t, 'cluster-ips')).toEqual([]);
    expect(elements(t, 'hairpin')).toEqual(['10.180.0.1 . 10.180.0.1', '10.180.0.2 . 10.180.0.2']);
    expect(t.chains.map((c) => c.name)).not.toContain(serviceChainName('SVC', servicePort()));
    expect(rules(t, 'group-tcp-2')).toEqual([
      'meta l4proto tcp ip saddr != 10.180.0.0/16 ip daddr . th dport @svcs-tcp-2 meta mark set meta mark | 0x4000',
      'meta l4proto tcp ip daddr . th dport @svcs-tcp-2 dnat ip to ip daddr . th dport . numgen random mod 2 map @eps-tcp-2 : ip daddr . th dport map @svcs-tcp-2',
    ]);
  });

  it('pairs for hairpin only the endpoints that may run on this node', () => {
    const t = table(servicePort({ clusterEndpoints: [{ ...EP1, nodeName: 'node-1' }, { ...EP2, nodeName: 'node-2' }, EP3] }));
    expect(elements(t, 'hairpin')).toEqual(['10.180.0.1 . 10.180.0.1', '10.180.1.3 . 10.180.1.3']);
  });

  it('renders the dispatch chains: masquerade marks, per-service verdict map, one jump per group, node ports last', () => {
    const t = table(servicePort(), NODE_PORT);
    expect(rules(t, 'services')).toEqual([
      'ip saddr != 10.180.0.0/16 ip daddr . meta l4proto . th dport @cluster-ips meta mark set meta mark | 0x4000',
      'ip daddr . meta l4proto . th dport @external-ips meta mark set meta mark | 0x4000',
      'fib daddr type local meta l4proto . th dport @external-nodeports meta mark set meta mark | 0x4000',
      'ip daddr . meta l4proto . th dport vmap @service-ips',
      'jump group-tcp-2',
      'jump group-tcp-3',
      'fib daddr type local jump nodeports',
    ]);
    expect(rules(t, 'nodeports')).toEqual(['meta l4proto . th dport vmap @service-nodeports', 'jump nodeport-group-tcp-2', 'jump nodeport-group-tcp-3']);
    expect(rules(t, 'masquerading')).toEqual([
      'ct status dnat ip saddr . ip daddr @hairpin masquerade fully-random',
      'meta mark & 0x4000 == 0 return',
      'meta mark set meta mark ^ 0x4000',
      'masquerade fully-random',
    ]);
  });

  it('sends node ports and external IPs of a Cluster-policy port through the same group, marked for masquerade', () => {
    const t = table(NODE_PORT);
    expect(elements(t, 'svcs-tcp-3')).toEqual(['172.30.0.42 . 80 comment "ns1/np:http" : 8080', '192.0.2.7 . 80 comment "ns1/np:http" : 8080']);
    expect(elements(t, 'eps-tcp-3')).toHaveLength(6);
    expect(elements(t, 'nodeports-tcp-3')).toEqual(['30080 comment "ns1/np:http" : 8080']);
    expect(elements(t, 'nodeport-eps-tcp-3')).toEqual(['30080 . 0 : 10.180.0.1', '30080 . 1 : 10.180.0.2', '30080 . 2 : 10.180.1.3']);
    expect(elements(t, 'external-ips')).toEqual(['192.0.2.7 . tcp . 80 comment "ns1/np:http"']);
    expect(elements(t, 'external-nodeports')).toEqual(['tcp . 30080 comment "ns1/np:http"']);
  });

  it('rejects a port without endpoints on every destination and DNATs it nowhere', () => {
    const t = table({ ...NODE_PORT, clusterEndpoints: [], localEndpoints: [] });
    expect(elements(t, 'reject-ips')).toEqual(['172.30.0.42 . tcp . 80 comment "ns1/np:http"', '192.0.2.7 . tcp . 80 comment "ns1/np:http"']);
    expect(elements(t, 'reject-nodeports')).toEqual(['tcp . 30080 comment "ns1/np:http"']);
    expect(t.sets.map((s) => s.name).filter((n) => /^svcs-/.test(n))).toEqual([]);
    expect(rules(t, 'service-verdicts')).toEqual([
      'ip daddr . meta l4proto . th dport @reject-ips reject',
      'fib daddr type local meta l4proto . th dport @reject-nodeports reject',
      'ip daddr . meta l4proto . th dport @drop-ips drop',
      'fib daddr type local meta l4proto . th dport @drop-nodeports drop',
    ]);
  });

  it('gives a port with session affinity its own chain, reached through the verdict map, with one timeout set per endpoint', () => {
    const sp = servicePort({ affinitySeconds: 60 });
    const t = table(sp);
    const svc = serviceChainName('SVC', sp);
    const [aff1, aff2] = [EP1, EP2].map((e) => affinityListName(sp, `${e.ip}:${e.port}`));
    expect(elements(t, 'service-ips')).toEqual([`172.30.0.41 . tcp . 80 comment "ns1/web:http" : goto ${svc}`]);
    expect(t.sets.find((s) => s.name === aff1)).toEqual({ name: aff1, map: false, spec: 'type ipv4_addr; flags dynamic,timeout; timeout 60s;' });
    expect(rules(t, svc)).toEqual([
      `meta l4proto tcp ip saddr @${aff1} update @${aff1} { ip saddr } dnat ip to 10.180.0.1:8080`,
      `meta l4proto tcp ip saddr @${aff2} update @${aff2} { ip saddr } dnat ip to 10.180.0.2:8080`,
      `meta l4proto tcp numgen random mod 2 == 0 update @${aff1} { ip saddr } dnat ip to 10.180.0.1:8080`,
      `meta l4proto tcp update @${aff2} { ip saddr } dnat ip to 10.180.0.2:8080`,
    ]);
    expect(elements(t, 'svcs-tcp-2') ?? []).toEqual([]);
  });

  it('gives a port whose endpoints listen on different ports a chain of its own: a group maps each destination to one port', () => {
    const sp = servicePort({ clusterEndpoints: [EP1, { ...EP2, port: 9090 }] });
    const t = table(sp);
    expect(rules(t, serviceChainName('SVC', sp))).toEqual(['meta l4proto tcp numgen random mod 2 == 0 dnat ip to 10.180.0.1:8080', 'meta l4proto tcp dnat ip to 10.180.0.2:9090']);
    expect(t.sets.map((s) => s.name).filter((n) => /^(svcs|eps)-/.test(n))).toEqual([]);
  });

  it('groups ports by protocol: a udp port of the same endpoint count has its own sets and chain, matching udp', () => {
    const t = table(servicePort(), servicePort({ key: 'ns1/dns:dns', service: 'ns1/dns', protocol: 'udp', port: 53, clusterEndpoints: [{ ...EP1, port: 53 }, { ...EP2, port: 53 }] }));
    expect(rules(t, 'services')?.filter((r) => r.startsWith('jump group-'))).toEqual(['jump group-tcp-2', 'jump group-udp-2']);
    expect(elements(t, 'svcs-udp-2')).toEqual(['172.30.0.41 . 53 comment "ns1/dns:dns" : 53']);
    expect(elements(t, 'eps-udp-2')).toEqual(['172.30.0.41 . 53 . 0 : 10.180.0.1', '172.30.0.41 . 53 . 1 : 10.180.0.2']);
    expect(rules(t, 'group-udp-2')?.[1]).toBe('meta l4proto udp ip daddr . th dport @svcs-udp-2 dnat ip to ip daddr . th dport . numgen random mod 2 map @eps-udp-2 : ip daddr . th dport map @svcs-udp-2');
  });

  it('sends external traffic of an externalTrafficPolicy Local port to local endpoints only, keeping pods and the node on all', () => {
    const sp = { ...NODE_PORT, externalTrafficLocal: true, localEndpoints: [EP1] };
    const t = table(sp);
    const [svc, svl, ext] = (['SVC', 'SVL', 'EXT'] as const).map((k) => serviceChainName(k, sp));
    expect(elements(t, 'service-nodeports')).toEqual([`tcp . 30080 comment "ns1/np:http" : goto ${ext}`]);
    expect(rules(t, ext)).toEqual([
      `ip saddr 10.180.0.0/16 goto ${svc}`,
      'fib saddr type local meta mark set meta mark | 0x4000',
      `fib saddr type local goto ${svc}`,
      `goto ${svl}`,
    ]);
    expect(rules(t, svl)).toEqual(['meta l4proto tcp dnat ip to 10.180.0.1:8080']);
  });

  it('drops external traffic of a Local port without local endpoints', () => {
    const t = table({ ...NODE_PORT, externalTrafficLocal: true, localEndpoints: [] });
    expect(elements(t, 'drop-nodeports')).toEqual(['tcp . 30080 comment "ns1/np:http"']);
    expect(elements(t, 'drop-ips')).toEqual(['192.0.2.7 . tcp . 80 comment "ns1/np:http"']);
  });

  it('admits load-balancer sources in a firewall chain and drops the rest in the filter hooks', () => {
    const sp = servicePort({ loadBalancerIPs: ['203.0.113.9'], loadBalancerSourceRanges: ['198.51.100.0/24'] });
    const t = table(sp);
    const [fw, ext] = (['FW', 'EXT'] as const).map((k) => serviceChainName(k, sp));
    expect(rules(t, fw)).toEqual([`ip saddr { 198.51.100.0/24, 203.0.113.9 } goto ${ext}`]);
    expect(elements(t, 'service-ips')).toContain(`203.0.113.9 . tcp . 80 comment "ns1/web:http" : goto ${fw}`);
    expect(elements(t, 'drop-ips')).toEqual(['203.0.113.9 . tcp . 80 comment "ns1/web:http"']);
  });

  it('matches node ports on the configured CIDRs instead of every local address', () => {
    const t = buildNftTable({ servicePorts: [NODE_PORT], skipped: [] }, { ...CONFIG, nodePortAddresses: ['10.0.0.0/24', '10.1.0.0/24'] });
    expect(rules(t, 'services')).toContain('ip daddr { 10.0.0.0/24, 10.1.0.0/24 } jump nodeports');
  });

  it('lists a hairpin pair once when two ports share the endpoint', () => {
    const t = table(servicePort(), servicePort({ key: 'ns2/other:http', service: 'ns2/other', clusterIP: '172.30.0.42', clusterEndpoints: [EP3, EP2] }));
    expect(elements(t, 'hairpin')).toEqual(['10.180.0.1 . 10.180.0.1', '10.180.0.2 . 10.180.0.2', '10.180.1.3 . 10.180.1.3']);
  });

  it('names the Service port in the comment of the elements that stand for it, never of the per-endpoint ones', () => {
    const t = table(NODE_PORT);
    const commented = t.sets.filter((s) => s.elements?.some((e) => e.includes(' comment '))).map((s) => s.name);
    expect(commented.sort()).toEqual(['external-ips', 'external-nodeports', 'nodeports-tcp-3', 'svcs-tcp-3']);
  });

  it('leaves the comment off a key nft could not take as it is, and writes the element anyway', () => {
    const long = `${'n'.repeat(63)}/${'s'.repeat(63)}:http`;
    expect(elements(table(servicePort({ key: long })), 'svcs-tcp-2')).toEqual(['172.30.0.41 . 80 : 8080']);
    expect(elements(table(servicePort({ key: 'ns1/web" } ; flush ruleset ; x:http' })), 'svcs-tcp-2')).toEqual(['172.30.0.41 . 80 : 8080']);
    expect(elements(table(servicePort({ key: `${'n'.repeat(59)}/${'s'.repeat(63)}:http` })), 'svcs-tcp-2')).toEqual([`172.30.0.41 . 80 comment "${'n'.repeat(59)}/${'s'.repeat(63)}:http" : 8080`]);
  });

  it('renders a full sync whose rule and element lines all name the one table', () => {
    const text = renderFullSync(table(servicePort(), NODE_PORT));
    expect(text.split('\n').filter((l) => l !== '').every((l) => l.includes(' ip weft'))).toBe(true);
  });
});
