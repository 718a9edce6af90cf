import { describe, expect, it } from 'vitest';
import { runAll } from '../../../plugins/cni/run-all.ts';

describe('runAll', () => {
  it('runs the steps after a failing one and returns each failure with its item, in order', async () => {
    const ran: number[] = [];
    const failures = await runAll([1, 2, 3, 4], async (n) => {
      ran.push(n);
      if (n % 2 === 0) throw new Error(`step ${n}`);
    });
    expect(ran).toEqual([1, 2, 3, 4]);
    expect(failures.map((f) => [f.item, (f.error as Error).message])).toEqual([
      [2, 'step 2'],
      [4, 'step 4'],
    ]);
  });
});
