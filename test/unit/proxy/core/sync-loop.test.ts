import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../../lib/log.ts';
import { SyncLoop } from '../../../../proxy/core/sync-loop.ts';

const PERIODS = { minSyncPeriodMs: 1000, syncPeriodMs: 3_600_000, baseBackoffMs: 1000, maxBackoffMs: 30_000 };
const log = createLogger({ component: 'test', level: 'error', file: '/dev/null' });

describe('SyncLoop', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('syncs fully at start, then syncs a change at once and batches the burst that follows into one more sync', async () => {
    const runs: [string, number][] = [];
    const loop = new SyncLoop({ periods: PERIODS, log, run: async (kind) => void runs.push([kind, Date.now()]) });
    loop.start();
    await vi.advanceTimersByTimeAsync(2000);
    for (let i = 0; i < 5; i++) {
      loop.notify();
      await vi.advanceTimersByTimeAsync(50);
    }
    await vi.advanceTimersByTimeAsync(2000);
    expect(runs.map(([kind]) => kind)).toEqual(['full', 'partial', 'partial', 'partial']);
    // The first two changes went at once (two tokens after the quiet spell); the other three waited
    // for the bucket to refill: one token a period, counted from the first partial sync.
    expect(runs.slice(1).map(([, at]) => at - 1_000_000)).toEqual([2000, 2050, 3000]);
    await loop.stop();
  });

  it('puts changes that arrive together into one sync', async () => {
    const runs: string[] = [];
    const loop = new SyncLoop({ periods: PERIODS, log, run: async (kind) => void runs.push(kind) });
    loop.start();
    await vi.advanceTimersByTimeAsync(5000);
    loop.notify();
    loop.notify();
    loop.notify();
    await vi.advanceTimersByTimeAsync(10);
    expect(runs).toEqual(['full', 'partial']);
    await loop.stop();
  });

  it('retries a failed sync as a full sync after a backoff and reports the change as pending meanwhile', async () => {
    const runs: string[] = [];
    let fail = true;
    const loop = new SyncLoop({
      periods: PERIODS,
      log,
      run: async (kind) => {
        runs.push(kind);
        if (kind === 'partial' && fail) throw new Error('restore failed');
      },
    });
    loop.start();
    await vi.advanceTimersByTimeAsync(1500);
    loop.notify();
    await vi.advanceTimersByTimeAsync(10);
    expect(runs).toEqual(['full', 'partial']);
    expect(loop.health.pendingSince).toBe(1_000_000 + 1500);
    fail = false;
    await vi.advanceTimersByTimeAsync(1100);
    expect(runs).toEqual(['full', 'partial', 'full']);
    expect(loop.health.pendingSince).toBeUndefined();
    await loop.stop();
  });
});
