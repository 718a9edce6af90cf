import { describe, expect, it } from 'vitest';
import { backoffMs, decideSync, INITIAL_RECORD, recordSync, type SyncPeriods, type SyncRecord } from '../../../../proxy/core/sync-schedule.ts';

const PERIODS: SyncPeriods = { minSyncPeriodMs: 1000, syncPeriodMs: 3_600_000, baseBackoffMs: 1000, maxBackoffMs: 30_000 };
const T = 1_000_000;
const ran = (r: SyncRecord, kind: 'full' | 'partial', startedAt: number, ok = true) => recordSync(r, { kind, startedAt, ok, pendingAfter: false }, PERIODS);
const withChange = (r: SyncRecord): SyncRecord => ({ ...r, pending: true });

describe('decideSync', () => {
  it('runs a full sync at once on start', () => {
    expect(decideSync(INITIAL_RECORD, T, PERIODS)).toEqual({ kind: 'full', delayMs: 0 });
  });

  it('idles without changes until the periodic full sync is due', () => {
    const r = ran(INITIAL_RECORD, 'full', T);
    expect(decideSync(r, T + 10_000, PERIODS)).toEqual({ kind: 'idle', delayMs: 3_590_000 });
    expect(decideSync(r, T + 3_600_000, PERIODS)).toEqual({ kind: 'full', delayMs: 0 });
  });

  it('runs a change after a quiet spell as a partial sync at once, even right after the previous sync (a burst of two)', () => {
    const quiet = ran(INITIAL_RECORD, 'full', T);
    expect(decideSync(withChange(quiet), T + 5000, PERIODS)).toEqual({ kind: 'partial', delayMs: 0 });
    const justSynced = ran(ran(INITIAL_RECORD, 'full', T), 'partial', T + 5000);
    expect(decideSync(withChange(justSynced), T + 5020, PERIODS)).toEqual({ kind: 'partial', delayMs: 0 });
  });

  it('batches a steady stream of changes into one sync per min-sync-period', () => {
    let r = ran(INITIAL_RECORD, 'full', T);
    r = ran(r, 'partial', T + 10);
    expect(decideSync(withChange(r), T + 300, PERIODS)).toEqual({ kind: 'partial', delayMs: 700 });
    r = ran(r, 'partial', T + 1000);
    expect(decideSync(withChange(r), T + 1000, PERIODS)).toEqual({ kind: 'partial', delayMs: 1000 });
  });

  it('lets every change through at once with min-sync-period 0', () => {
    const periods = { ...PERIODS, minSyncPeriodMs: 0 };
    const r = recordSync(recordSync(INITIAL_RECORD, { kind: 'full', startedAt: T, ok: true, pendingAfter: false }, periods), { kind: 'partial', startedAt: T, ok: true, pendingAfter: false }, periods);
    expect(decideSync(withChange(r), T, periods)).toEqual({ kind: 'partial', delayMs: 0 });
  });

  it('retries a failure as a full sync with exponential backoff', () => {
    let r = ran(INITIAL_RECORD, 'full', T);
    r = ran(r, 'partial', T + 10_000, false);
    expect(decideSync(r, T + 10_000, PERIODS)).toEqual({ kind: 'full', delayMs: 1000 });
    r = ran(r, 'full', T + 11_000, false);
    r = ran(r, 'full', T + 13_000, false);
    expect(decideSync(r, T + 13_000, PERIODS)).toEqual({ kind: 'full', delayMs: 4000 });
    r = ran(r, 'full', T + 17_000);
    expect(r.failures).toBe(0);
    expect(decideSync(r, T + 18_000, PERIODS).kind).toBe('idle');
  });

  it('caps the backoff', () => {
    expect(backoffMs(0, PERIODS)).toBe(0);
    expect(backoffMs(3, PERIODS)).toBe(4000);
    expect(backoffMs(50, PERIODS)).toBe(30_000);
  });
});
