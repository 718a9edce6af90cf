import { readFileSync } from 'node:fs';
import { sleep } from './proxy-clock.ts';

// A case starts on a quiet machine, and its result records the wait: a proxy started while something
// else still runs (the bench's own creations, a previous case's teardown) would be timed against it as
// much as against its own work. One second after 10,000 creations this machine was 95-98% idle.

/** The machine's CPU time since boot, from /proc/stat's first line, in clock ticks. */
export interface CpuTimes {
  readonly idle: number;
  readonly total: number;
}

/** The aggregate `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal (guest time is inside user). */
export function parseCpuTimes(stat: string): CpuTimes {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) throw new Error('cannot read CPU times: /proc/stat has no "cpu" line');
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 5 || fields.some((f) => !Number.isFinite(f))) throw new Error(`cannot read CPU times from "${line}"`);
  const [, , , idle = 0, iowait = 0] = fields;
  return { idle: idle + iowait, total: fields.reduce((a, b) => a + b, 0) };
}

/** The share of CPU time spent idle between two readings; 1 when no tick passed. */
export function idleShare(before: CpuTimes, after: CpuTimes): number {
  const total = after.total - before.total;
  return total <= 0 ? 1 : (after.idle - before.idle) / total;
}

function cpuTimesNow(): CpuTimes {
  return parseCpuTimes(readFileSync('/proc/stat', 'utf8'));
}

export interface QuietOptions {
  /** The idle share a window must reach. */
  readonly idleAtLeast: number;
  readonly windowMs: number;
  /** After this the case starts anyway, and the wait says so. */
  readonly maxMs: number;
}

export const QUIET: QuietOptions = { idleAtLeast: 0.9, windowMs: 1_000, maxMs: 60_000 };

/** Waits for one window in which the machine is idle enough; resolves with how long it waited and the last window's idle share. */
export async function waitForQuietMachine(options: QuietOptions = QUIET): Promise<{ waitedMs: number; idle: number; quiet: boolean }> {
  const started = performance.now();
  let before = cpuTimesNow();
  for (;;) {
    await sleep(options.windowMs);
    const after = cpuTimesNow();
    const idle = idleShare(before, after);
    const waitedMs = Math.round(performance.now() - started);
    if (idle >= options.idleAtLeast || waitedMs >= options.maxMs) return { waitedMs, idle: Math.round(idle * 1000) / 1000, quiet: idle >= options.idleAtLeast };
    before = after;
  }
}
