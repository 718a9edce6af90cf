import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareWithPrediction } from '../../../troubleshoot/probe/compare.ts';
import { probeChainPlace, renderProbeTable } from '../../../troubleshoot/probe/probe-table.ts';
import { observePath, parseTraceEvents } from '../../../troubleshoot/probe/trace-events.ts';
import type { Explanation, PathBranch } from '../../../troubleshoot/model/explanation.ts';

// `nft monitor trace` output captured in a lab node (iptables mode) while a pod opened a connection
// to a two-endpoint ClusterIP: the kernel changed the trace id between PREROUTING and FORWARD.
const TRACE = readFileSync(join(import.meta.dirname, 'fixtures/trace-pod-to-service.txt'), 'utf8');

function branch(overrides: Partial<PathBranch>): PathBranch {
  return { to: '10.244.220.2:8080', probability: 0.5, hooks: ['prerouting', 'forward', 'postrouting'], exit: { oif: 'weft.1', src: '10.244.88.0' }, hops: [], outcome: 'leaves', ...overrides };
}

function explanation(branches: PathBranch[]): Explanation {
  return {
    packet: { src: '10.244.88.2', dst: '10.96.0.10', dport: 80, proto: 'tcp', size: 1450 },
    node: '172.30.91.1',
    source: { origin: 'pod', iif: 'cni0' },
    proxyMode: 'iptables',
    hops: [],
    branches,
    verdict: { kind: 'delivered', summary: '', causes: [] },
    notes: [],
  };
}

describe('the probe table', () => {
  it('traces only the probe connection\'s first packet, from the first chain of PREROUTING and OUTPUT', () => {
    const text = renderProbeTable('weft-probe-7', { src: '10.244.1.2', dst: '10.96.0.10', sport: 45678, dport: 80, proto: 'tcp' });
    const rules = text.split('\n').filter((l) => l.startsWith('add rule'));
    expect(rules).toEqual([
      'add rule ip weft-probe-7 pre-first ip saddr 10.244.1.2 ip daddr 10.96.0.10 tcp sport 45678 tcp dport 80 tcp flags & (syn | ack) == syn meta nftrace set 1',
      'add rule ip weft-probe-7 out-first ip saddr 10.244.1.2 ip daddr 10.96.0.10 tcp sport 45678 tcp dport 80 tcp flags & (syn | ack) == syn meta nftrace set 1',
    ]);
    expect(text).toContain('add chain ip weft-probe-7 post-last { type filter hook postrouting priority 400; policy accept; }');
    expect(probeChainPlace('fwd-last')).toEqual({ hook: 'forward', end: 'last' });
  });
});

describe('reading the kernel\'s trace', () => {
  it('follows the packet across trace ids by its IP id, with the endpoint chosen and how it left', () => {
    const observed = observePath(parseTraceEvents(TRACE), 'weft-probe');
    expect(observed?.hooks).toEqual([
      { hook: 'prerouting', passed: true },
      { hook: 'forward', passed: true },
      { hook: 'postrouting', passed: true },
    ]);
    expect(observed?.to).toBe('10.244.220.2:8080');
    expect(observed?.exit).toEqual({ oif: 'weft.1', src: '10.244.88.0' });
    expect(observed?.rules).toContain('ip nat WEFT-SVC-OSC5D42RU6KJHZT7: meta l4proto tcp  counter packets 0 bytes 0 dnat to 10.244.220.2:8080 (verdict accept)');
    expect(observed?.stoppedBy).toBeUndefined();
  });

  it('agrees with a prediction that names the same endpoint, hooks, device and source', () => {
    const observed = observePath(parseTraceEvents(TRACE), 'weft-probe');
    const other = branch({ to: '10.244.88.2:8080', exit: { oif: 'cni0', src: '10.244.88.1' }, outcome: 'delivered' });
    const result = compareWithPrediction(explanation([other, branch({})]), observed!);
    expect(result.agrees).toBe(true);
    expect(result.checks.map((c) => c.what)).toEqual(['destination after DNAT', 'hooks', 'leaves through', 'source address leaving', 'gets through this node']);
  });

  it('flags a prediction the kernel did not follow', () => {
    const observed = observePath(parseTraceEvents(TRACE), 'weft-probe');
    const result = compareWithPrediction(explanation([branch({ outcome: 'dropped', exit: undefined, hooks: ['prerouting'] })]), observed!);
    expect(result.agrees).toBe(false);
    expect(result.checks.filter((c) => !c.same).map((c) => c.what)).toEqual(['hooks', 'gets through this node']);
  });
});
