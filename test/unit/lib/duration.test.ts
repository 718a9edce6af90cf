import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../lib/duration.ts';

describe('Go durations', () => {
  it.each([
    ['0', 0],
    ['1s', 1000],
    ['250ms', 250],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['1500us', 1.5],
    ['1500\u00b5s', 1.5],
    ['1500\u03bcs', 1.5],
    ['2000000ns', 2],
  ])('reads "%s" as %d ms, as time.ParseDuration does', (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', '1', '-1s', '1 s', 's', '1d', '1sx'])('refuses "%s"', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('writes whole hours, minutes and seconds, and milliseconds below a second', () => {
    expect([formatDuration(90_000), formatDuration(250), formatDuration(3_600_500)]).toEqual(['1m30s', '250ms', '1h0.5s']);
  });
});
