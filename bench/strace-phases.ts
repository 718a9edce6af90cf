// Where a plugin call spends its time, from `strace -f -ttt -e trace=execve,read -e signal=none` output:
// start-up (exec of the plugin until it reads its config from stdin, or starts its first child if
// that comes first), spawned programs (ip, nsenter, delegates: the union of their lifetimes), and the
// plugin's own work in between and until it exits.

export interface Phases {
  totalMs: number;
  startupMs: number;
  childrenMs: number;
  ownMs: number;
  children: number;
}

interface Line {
  pid: number;
  time: number;
  exec?: string;
  exited?: boolean;
  readsStdin?: boolean;
}

function parseLine(text: string): Line | undefined {
  const match = /^(\d+)\s+(\d+\.\d+)\s+(.*)$/.exec(text);
  if (!match) return undefined;
  const [, pid, time, rest = ''] = match;
  const exec = /^execve\("([^"]*)"/.exec(rest)?.[1];
  return { pid: Number(pid), time: Number(time) * 1000, exec, exited: rest.startsWith('+++ exited') || rest.startsWith('+++ killed'), readsStdin: rest.startsWith('read(0,') };
}

/** Length of the union of [start, end) intervals. */
function unionLength(intervals: readonly [number, number][]): number {
  let total = 0;
  let reach = Number.NEGATIVE_INFINITY;
  for (const [start, end] of [...intervals].sort((a, b) => a[0] - b[0])) {
    if (end <= reach) continue;
    total += end - Math.max(start, reach);
    reach = end;
  }
  return total;
}

/** `plugin` is the basename the plugin was started as; the traced process may first exec a wrapper (nsenter). */
export function phasesFromStrace(output: string, plugin: string): Phases {
  const lines = output.split('\n').map(parseLine).filter((line): line is Line => line !== undefined);
  const root = lines[0]?.pid;
  const start = lines.find((line) => line.pid === root && line.exec?.endsWith(`/${plugin}`))?.time;
  const end = lines.find((line) => line.pid === root && line.exited)?.time;
  if (root === undefined || start === undefined || end === undefined) throw new Error(`cannot find the exec and exit of "${plugin}" in the trace`);
  const spawned = new Map<number, [number, number]>();
  for (const line of lines) {
    if (line.pid === root) continue;
    if (line.exec !== undefined && !spawned.has(line.pid)) spawned.set(line.pid, [line.time, end]);
    const interval = spawned.get(line.pid);
    if (line.exited && interval) interval[1] = line.time;
  }
  const intervals = [...spawned.values()];
  // The plugin's threads (a Go runtime's) are traced as other pids that never exec.
  const configRead = lines.find((line) => line.readsStdin && line.time >= start && !spawned.has(line.pid))?.time ?? end;
  const startupEnd = Math.min(configRead, ...intervals.map(([s]) => s));
  const childrenMs = unionLength(intervals);
  const totalMs = end - start;
  const startupMs = startupEnd - start;
  return { totalMs, startupMs, childrenMs, ownMs: totalMs - startupMs - childrenMs, children: intervals.length };
}
