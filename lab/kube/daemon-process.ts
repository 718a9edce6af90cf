import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

// Long-running processes of a lab cluster that outlive the command that started them (cluster:up returns,
// the cluster keeps running, as kind's containers do). Each is recorded by pid and kernel start time, so
// cluster:down never signals a stranger that reused the pid; output goes to a log file of the lab's.

export interface DaemonRecord {
  name: string;
  pid: number;
  /** Field 22 of /proc/PID/stat: the pid plus this identify the process for its whole life. */
  startTime: string;
  log: string;
}

const STOP_GRACE_MS = 10_000;

/** The start time of a live process (a zombie has exited: undefined). */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

/**
 * Starts `file args` detached, appending its output to `log` (created 0600). With `cgroups`, it first joins
 * each of those cgroup directories, so the process and everything it starts lives in them.
 */
export function startDaemon(name: string, command: readonly string[], options: { log: string; cgroups?: readonly string[]; env?: NodeJS.ProcessEnv }): DaemonRecord {
  const fd = openSync(options.log, 'a', 0o600);
  try {
    // The shell joins the cgroups, then execs: the pid recorded is the daemon's own.
    const join = 'for dir in $WEFT_CGROUPS; do echo $$ > "$dir/cgroup.procs" || exit 1; done; exec "$@"';
    const child = spawn('sh', ['-c', join, 'sh', ...command], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...(options.env ?? process.env), WEFT_CGROUPS: (options.cgroups ?? []).join(' ') },
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`cannot start ${name}: no pid (is "${command[0]}" installed?)`);
    const startTime = startTimeOf(child.pid);
    if (!startTime) throw new Error(`cannot start ${name}: it exited at once; see ${options.log}`);
    return { name, pid: child.pid, startTime, log: options.log };
  } finally {
    closeSync(fd);
  }
}

export function isRunning(record: DaemonRecord): boolean {
  return startTimeOf(record.pid) === record.startTime;
}

/** Signals the daemon's whole process group (it leads one: started detached), so its children go too. */
function signal(record: DaemonRecord, sig: NodeJS.Signals): void {
  if (!isRunning(record)) return;
  try {
    process.kill(-record.pid, sig);
  } catch {
    // exited between the check and the signal
  }
}

/** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. */
export async function stopDaemon(record: DaemonRecord, graceMs = STOP_GRACE_MS): Promise<void> {
  signal(record, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isRunning(record) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  signal(record, 'SIGKILL');
  while (isRunning(record)) await new Promise((r) => setTimeout(r, 50));
}

/** The last lines of a daemon's log, for error messages. */
export function logTail(record: Pick<DaemonRecord, 'log'>, lines = 15): string {
  try {
    return readFileSync(record.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
