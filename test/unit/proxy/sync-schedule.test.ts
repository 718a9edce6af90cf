import { describe, expect, it } from 'vitest';
import { backoffMs, decideSync, INITIAL_RECORD, recordSync, type SyncPeriods } from '../../../proxy/sync-schedule.ts';

const PERIODS: SyncPeriods = { minSyncPeriodMs: 1000, syncPeriodMs: 3_600_000, baseBackoffMs: 1000, maxBackoffMs: 30_000 };
const T = 1_000_000;

describe('decideSync', () => {
  it('runs a full sync at once on start', () => {
    expect(decideSync(INITIAL_RECORD, T, PERIODS)).toEqual({ kind: 'full', delayMs: 0 });
  });

  it('idles without changes until the periodic full sync is due', () => {
    const r = recordSync(INITIAL_RECORD, { kind: 'full', startedAt: T, ok: true, pendingAfter: false });
    expect(decideSync(r, T + 10_000, PERIODS)).toEqual({ kind: 'idle', delayMs: 3_590_000 });
    expect(decideSync(r, T + 3_600_000, PERIODS)).toEqual({ kind: 'full', delayMs: 0 });
  });

  it('runs a change as a partial sync at once when the last sync is older than min-sync-period', () => {
    const r = { ...recordSync(INITIAL_RECORD, { kind: 'full', startedAt: T, ok: true, pendingAfter: false }), pending: true };
    expect(decideSync(r, T + 5000, PERIODS)).toEqual({ kind: 'partial', delayMs: 0 });
  });

  it('batches a burst: a change right after a sync waits for min-sync-period', () => {
    const r = { ...recordSync(INITIAL_RECORD, { kind: 'full', startedAt: T, ok: true, pendingAfter: false }), pending: true };
    expect(decideSync(r, T + 300, PERIODS)).toEqual({ kind: 'partial', delayMs: 700 });
  });

  it('retries a failure as a full sync with exponential backoff', () => {
    let r = recordSync(INITIAL_RECORD, { kind: 'full', startedAt: T, ok: true, pendingAfter: false });
    r = recordSync(r, { kind: 'partial', startedAt: T + 10_000, ok: false, pendingAfter: false });
    expect(decideSync(r, T + 10_000, PERIODS)).toEqual({ kind: 'full', delayMs: 1000 });
    r = recordSync(r, { kind: 'full', startedAt: T + 11_000, ok: false, pendingAfter: false });
    r = recordSync(r, { kind: 'full', startedAt: T + 13_000, ok: false, pendingAfter: false });
    expect(decideSync(r, T + 13_000, PERIODS)).toEqual({ kind: 'full', delayMs: 4000 });
    r = recordSync(r, { kind: 'full', startedAt: T + 17_000, ok: true, pendingAfter: false });
    expect(r.failures).toBe(0);
    expect(decideSync(r, T + 18_000, PERIODS).kind).toBe('idle');
  });

  it('caps the backoff', () => {
    expect(backoffMs(0, PERIODS)).toBe(0);
    expect(backoffMs(3, PERIODS)).toBe(4000);
    expect(backoffMs(50, PERIODS)).toBe(30_000);
  });
});
