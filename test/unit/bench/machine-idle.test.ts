import { describe, expect, it } from 'vitest';
import { idleShare, parseCpuTimes } from '../../../bench/machine-idle.ts';

describe('machine idle share', () => {
  const stat = (user: number, idle: number, iowait: number) => `cpu  ${user} 0 100 ${idle} ${iowait} 0 5 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1 2\n`;

  it('counts idle and iowait as idle, and every field up to steal in the total', () => {
    expect(parseCpuTimes(stat(400, 1000, 50))).toEqual({ idle: 1050, total: 400 + 100 + 1000 + 50 + 5 });
  });

  it('is the idle share of the ticks between two readings', () => {
    const before = parseCpuTimes(stat(400, 1000, 0));
    expect(idleShare(before, parseCpuTimes(stat(420, 1180, 0)))).toBeCloseTo(0.9);
    expect(idleShare(before, parseCpuTimes(stat(600, 1000, 0)))).toBe(0);
    expect(idleShare(before, before)).toBe(1);
  });

  it('refuses a /proc/stat without the aggregate line', () => {
    expect(() => parseCpuTimes('cpu0 1 2 3 4\n')).toThrow(/no "cpu" line/);
    expect(() => parseCpuTimes('cpu  1 2 x 4 5\n')).toThrow(/cannot read CPU times from/);
  });
});
