import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Branch, Flow, NodeFacts, RuleHit } from '../../../troubleshoot/netfilter/flow.ts';
import { walkHook } from '../../../troubleshoot/netfilter/hooks.ts';
import { parseNftRuleset } from '../../../troubleshoot/netfilter/nftables-ruleset.ts';
import { NftablesEvaluator } from '../../../troubleshoot/netfilter/nftables-tracer.ts';
import { proxyRuleNaming, rejectedDestinations } from '../../../troubleshoot/netfilter/proxy-rules.ts';
import { ruleCause } from '../../../troubleshoot/path/causes.ts';
import { serviceHop } from '../../../troubleshoot/path/netfilter-hops.ts';
import { LOCAL, NODE_IP } from '../proxy/fixtures.ts';

// The nftables tracer on weft-proxy's table as the kernel lists it: fixtures/nft-proxy.{json,txt}
// are `nft -j list table ip weft` and `nft -a list table ip weft` after `nft -f` of the renderer's
// full sync (test/unit/proxy/fixtures.ts's ports) in a scratch namespace: ns1/web:http (172.30.0.41:80,
// node port 30001, grouped, endpoints 10.180.0.1 and .2), ns1/empty:http (172.30.0.42:80, node port
// 30002, no endpoints) and ns1/sticky:http (172.30.0.43:80, session affinity, a chain of its own).
// The elements standing for a Service port carry its name as their comment.

const DIR = join(import.meta.dirname, 'fixtures');
const JSON_LISTING = readFileSync(join(DIR, 'nft-proxy.json'), 'utf8');
const TEXT_LISTING = readFileSync(join(DIR, 'nft-proxy.txt'), 'utf8');
const POD = '10.180.0.7';
const OUTSIDE = '192.168.50.9';

const facts: NodeFacts = { isLocal: (ip) => LOCAL.localAddresses.includes(ip), masqueradeSource: () => undefined };

function start(flow: Partial<Flow> & Pick<Flow, 'src' | 'dst'>): Branch {
  return { probability: 1, flow: { proto: 'tcp', mark: 0, dnat: false, snat: false, ...flow }, hits: [], notes: [] };
}

function evaluators(json = JSON_LISTING, text = TEXT_LISTING): NftablesEvaluator[] {
  return [new NftablesEvaluator(parseNftRuleset(json, text))];
}

const named = (hits: readonly RuleHit[]) => [...new Set(hits.map((h) => h.service))];

describe('the nftables tracer names the Service whose element matched', () => {
  it('a ClusterIP in an endpoint-count group: both DNAT branches carry the name of the svcs element, and the Service hop shows it', () => {
    const result = walkHook(evaluators(), 'prerouting', [start({ src: POD, dst: '172.30.0.41', dport: 80 })], facts);
    expect(result.accepted.map((b) => [b.flow.dst, b.flow.dport, b.probability])).toEqual([['10.180.0.1', 8080, 0.5], ['10.180.0.2', 8080, 0.5]]);
    for (const b of result.accepted) expect(b.hits.find((h) => h.action.startsWith('DNAT'))?.service).toBe('ns1/web:http');
    expect(serviceHop('prerouting', result.accepted, 0)?.title).toBe('PREROUTING DNAT (ns1/web:http)');
  });

  it('a node port from outside: named by the nodeports element, marked for masquerade by the external-nodeports one', () => {
    const result = walkHook(evaluators(), 'prerouting', [start({ src: OUTSIDE, dst: NODE_IP, dport: 30001 })], facts);
    expect(result.accepted.map((b) => b.flow.dst)).toEqual(['10.180.0.1', '10.180.0.2']);
    const hits = result.accepted[0]?.hits ?? [];
    expect(hits.filter((h) => h.action.startsWith('mark') || h.action.startsWith('DNAT')).map((h) => [h.chain, h.service])).toEqual([
      ['services', 'ns1/web:http'],
      ['nodeport-group-tcp-2', 'ns1/web:http'],
    ]);
  });

  it('a port with a chain of its own: named by the verdict map element that sent the packet there', () => {
    const result = walkHook(evaluators(), 'prerouting', [start({ src: POD, dst: '172.30.0.43', dport: 80 })], facts);
    expect(result.accepted.map((b) => b.flow.dst)).toEqual(['10.180.0.1', '10.180.0.2']);
    const hits = result.accepted[0]?.hits ?? [];
    expect(hits.find((h) => h.action.startsWith('goto WEFT-SVC-'))?.service).toBe('ns1/sticky:http');
    expect(serviceHop('prerouting', result.accepted, 0)?.title).toBe('PREROUTING DNAT (ns1/sticky:http)');
  });

  it('a Service without endpoints: the reject names it, and so does the cause and doctor\'s list', () => {
    const result = walkHook(evaluators(), 'forward', [start({ src: POD, dst: '172.30.0.42', dport: 80 })], facts);
    const by = result.stopped[0]?.by;
    expect([result.stopped[0]?.end, by?.service]).toEqual(['reject', 'ns1/empty:http']);
    expect(ruleCause(by as RuleHit, 'reject', { legacyRules: 0, nftRules: 1 }).message).toMatch(/^Service ns1\/empty:http has no endpoints: weft-proxy rejects its address \(nftables ip weft service-verdicts: /);
    expect(rejectedDestinations({ iptables: [], nftables: parseNftRuleset(JSON_LISTING, TEXT_LISTING) })).toEqual(['ns1/empty:http (172.30.0.42:80)', 'ns1/empty:http (node port 30002)']);
  });

  it('a packet no Service element matches is named by nothing', () => {
    const result = walkHook(evaluators(), 'prerouting', [start({ src: POD, dst: '172.30.0.41', dport: 81 })], facts);
    expect(result.accepted.map((b) => b.flow.dnat)).toEqual([false]);
    expect(named(result.accepted[0]?.hits ?? [])).toEqual([undefined]);
  });

  it('finds a grouped Service destination by the protocol its group stands for, which its keys leave out', () => {
    const rulesets = { iptables: [], nftables: parseNftRuleset(JSON_LISTING, TEXT_LISTING) };
    expect(proxyRuleNaming(rulesets, { ip: '172.30.0.41', port: 80, proto: 'tcp' })).toBe('nftables ip weft set svcs-tcp-2: 172.30.0.41 . 80 (ns1/web:http)');
    expect(proxyRuleNaming(rulesets, { ip: '172.30.0.41', port: 80, proto: 'udp' })).toBeUndefined();
  });

  it('comments of a table that is not the proxy\'s name no Service, and elements without a comment still match', () => {
    const other = JSON_LISTING.replaceAll('"table": "weft"', '"table": "other"').replaceAll('"name": "weft"', '"name": "other"');
    const result = walkHook(evaluators(other, TEXT_LISTING.replace('table ip weft', 'table ip other')), 'prerouting', [start({ src: POD, dst: '172.30.0.41', dport: 80 })], facts);
    expect(result.accepted.map((b) => b.flow.dst)).toEqual(['10.180.0.1', '10.180.0.2']);
    expect(named(result.accepted.flatMap((b) => b.hits))).toEqual([undefined]);
    const uncommented = JSON_LISTING.replace(/\{"elem": \{"val": (\{"concat": \["172\.30\.0\.41", 80\]\}), "comment": "ns1\/web:http"\}\}/, '$1');
    expect(uncommented).not.toBe(JSON_LISTING);
    const plain = walkHook(evaluators(uncommented), 'prerouting', [start({ src: POD, dst: '172.30.0.41', dport: 80 })], facts);
    expect(plain.accepted.map((b) => b.flow.dst)).toEqual(['10.180.0.1', '10.180.0.2']);
    expect(serviceHop('prerouting', plain.accepted, 0)?.title).toBe('PREROUTING DNAT');
  });
});
