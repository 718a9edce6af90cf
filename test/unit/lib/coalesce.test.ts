import { describe, expect, it } from 'vitest';
import { coalesce } from '../../../lib/coalesce.ts';

/** Work whose runs the test ends one by one, recording the state each run saw. */
function controlledWork(state: { value: number }) {
  const seen: number[] = [];
  const ends: (() => void)[] = [];
  const work = () =>
    new Promise<void>((resolve) => {
      seen.push(state.value);
      ends.push(resolve);
    });
  return { seen, ends, work };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('coalesce', () => {
  it('runs at once when idle, and calls made during a run share one next run that sees the latest state', async () => {
    const state = { value: 1 };
    const { seen, ends, work } = controlledWork(state);
    const sync = coalesce(work);
    const first = sync();
    state.value = 2;
    const second = sync();
    state.value = 3;
    const third = sync();
    expect(second).toBe(third);
    await tick();
    expect(seen).toEqual([1]);
    ends[0]!();
    await first;
    await tick();
    expect(seen).toEqual([1, 3]);
    ends[1]!();
    await Promise.all([second, third]);
    expect(seen).toEqual([1, 3]);
  });

  it('reports a failed run to the callers waiting on it, and the next call runs again', async () => {
    let fail = true;
    const sync = coalesce(async () => {
      if (fail) throw new Error('cannot apply');
    });
    await expect(sync()).rejects.toThrow('cannot apply');
    fail = false;
    await expect(sync()).resolves.toBeUndefined();
  });

  it('starts the queued run even when the running one fails', async () => {
    const runs: string[] = [];
    let release!: () => void;
    const sync = coalesce(async () => {
      runs.push('run');
      if (runs.length === 1) {
        await new Promise<void>((r) => (release = r));
        throw new Error('first failed');
      }
    });
    const first = sync();
    const second = sync();
    release();
    await expect(first).rejects.toThrow('first failed');
    await expect(second).resolves.toBeUndefined();
    expect(runs).toEqual(['run', 'run']);
  });
});
