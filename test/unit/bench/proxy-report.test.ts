import { describe, expect, it } from 'vitest';
import type { CaseResult } from '../../../bench/proxy-case.ts';
import { endpointChangePayload } from '../../../bench/proxy-floor.ts';
import { ratios, reportLines } from '../../../bench/proxy-report.ts';
import { syncBreakdown } from '../../../bench/proxy-sync-log.ts';

const change = (p50: number, p95: number) => ({ count: 20, p50, p95, max: p95, samples: [], missed: 0 });
const WEFT: CaseResult = { proxy: 'weft-proxy', mode: 'nftables', services: 1000, fullSyncMs: 500, endpointChange: change(40, 50), afterChanges: { rssMiB: 100 }, cpuSeconds: 2, floor: { count: 20, p50: 30, p95: 35, max: 36, payload: '' } };
const KUBE: CaseResult = { proxy: 'kube-proxy', mode: 'nftables', services: 1000, fullSyncMs: 2000, endpointChange: change(400, 500), afterChanges: { rssMiB: 200 }, cpuSeconds: 8 };

describe('the bench:proxy report', () => {
  it('divides weft-proxy by kube-proxy in the same mode', () => {
    expect(ratios([WEFT, KUBE])).toEqual([{ mode: 'nftables', fullSync: 0.25, endpointChangeP50: 0.1, endpointChangeP95: 0.1, rss: 0.5, cpu: 0.25 }]);
    expect(ratios([WEFT])).toEqual([]);
  });

  it('prints the nft -f floor beside weft-proxy\'s end-to-end figure', () => {
    expect(reportLines(1000, [WEFT, KUBE]).join('\n')).toContain('nft -f floor of an endpoint change p50 30.0 ms (p95 35.0 ms): weft end to end / floor 1.33');
  });
});

describe('weft-proxy\'s sync log', () => {
  it('splits a change into write to arrival, waiting, the sync and the rest', () => {
    const log = ['{"msg":"synced","kind":"full","ms":900}', '{"msg":"synced","kind":"partial","ms":20,"firstChangeAt":1010,"waitedMs":2}', 'not json, not a sync'].join('\n');
    expect(syncBreakdown(log, [{ sentAt: 1000, doneAt: 1006, seenAt: 1040 }])).toEqual({ matched: 1, writeToAnswerMs: 6, writeToArrivalMs: 10, arrivalToSyncMs: 2, syncMs: 20, syncEndToSeenMs: 8 });
  });
});

describe('the floor payload', () => {
  it('is weft-proxy\'s own partial sync of one endpoint change: a map key replaced (the endpoints run on other nodes: no hairpin pair)', () => {
    expect(endpointChangePayload(3, { services: 10, endpoints: 2, change: 0 }).split('\n')).toEqual([
      'delete element ip weft eps-tcp-2 { 10.96.4.3 . 80 . 1 }',
      'add element ip weft eps-tcp-2 { 10.96.4.3 . 80 . 1 : 10.192.0.1 }',
      '',
    ]);
  });
});
