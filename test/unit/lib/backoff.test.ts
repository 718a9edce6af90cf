import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelayMs } from '../../../lib/backoff.ts';

describe('Backoff', () => {
  it('doubles from 0.5 s up to its cap and starts over after reset', () => {
    const backoff = new Backoff({ maxMs: 4000 });
    expect([1, 2, 3, 4, 5].map(() => backoff.nextDelayMs())).toEqual([500, 1000, 2000, 4000, 4000]);
    backoff.reset();
    expect(backoff.nextDelayMs()).toBe(500);
  });
});

describe('backoffDelayMs', () => {
  it('starts at the base, doubles per attempt and stays at the cap for huge attempt counts', () => {
    const limits = { baseMs: 250, maxMs: 5000 };
    expect([0, 1, 2, 5, 1000].map((a) => backoffDelayMs(a, limits))).toEqual([250, 500, 1000, 5000, 5000]);
  });
});
