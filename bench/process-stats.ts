import { readdirSync, readFileSync } from 'node:fs';

// A benchmarked process seen from /proc: resident memory (now and at its peak) and CPU time. A proxy's
// counts the children it waited for (iptables-restore, nft), so both proxies are counted alike; an
// overlay daemon's counts every process below it as well (the programs weftd runs at its start).

const CLOCK_TICKS = 100;

function status(pid: number, field: string): number | undefined {
  try {
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 102.4) / 10;
  } catch {
    return undefined;
  }
}

export interface MemorySample {
  readonly rssMiB?: number;
  /** The anonymous part of RSS (heaps, stacks); the rest maps the executable's file. */
  readonly anonMiB?: number;
  /** The peak resident memory so far. */
  readonly peakMiB?: number;
  /** Heap in use (V8's for weft-proxy, Go's for kube-proxy), from the proxy's metrics. */
  readonly heapMiB?: number;
  /** Heap the runtime holds from the system, in use or not. */
  readonly heapHeldMiB?: number;
}

export function memory(pid: number, heap: { heapMiB?: number; heapHeldMiB?: number } = {}): MemorySample {
  const rss = status(pid, 'VmRSS');
  const anon = status(pid, 'RssAnon');
  const peak = status(pid, 'VmHWM');
  return { ...(rss !== undefined ? { rssMiB: rss } : {}), ...(anon !== undefined ? { anonMiB: anon } : {}), ...(peak !== undefined ? { peakMiB: peak } : {}), ...heap };
}

/** The fields of /proc/PID/stat from state (field 3) on: the command name before them may hold spaces. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime + cutime + cstime, in seconds. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = statFields(pid);
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    return Math.round((ticks / CLOCK_TICKS) * 100) / 100;
  } catch {
    return undefined;
  }
}

/** utime + stime of a process and of every process below it that still runs, in ms; 0 for one that is gone. */
export function treeCpuMs(pid: number): number {
  try {
    const fields = statFields(pid);
    let ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) ms += treeCpuMs(Number(child));
    }
    return ms;
  } catch {
    return 0;
  }
}
