import { describe, expect, it } from 'vitest';
import { percentile, ratio, summarize } from '../../../bench/stats.ts';

describe('percentile', () => {
  it('takes the nearest rank of unsorted samples', () => {
    const samples = [50, 10, 40, 20, 30, 60, 70, 80, 90, 100];
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 95)).toBe(100);
    expect(percentile(samples, 10)).toBe(10);
  });

  it('returns the only sample for any p and NaN without samples', () => {
    expect(percentile([7], 0)).toBe(7);
    expect(percentile([7], 100)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('summarize', () => {
  it('reports count, p50, p95 and max', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarize(samples)).toEqual({ count: 100, p50: 50, p95: 95, max: 100 });
  });
});

describe('ratio', () => {
  it('divides ours by the reference, rounded to two decimals', () => {
    expect(ratio(45, 30)).toBe(1.5);
    expect(ratio(10, 30)).toBe(0.33);
  });
});
