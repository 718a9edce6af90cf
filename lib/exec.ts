import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { currentDeadline } from './deadline.ts';

// The one place that spawns programs. The CNI hot path uses node:child_process directly because
// execa adds ~30 ms of module loading to every plugin start (measured; see docs/PERFORMANCE.md).

export interface RunOptions {
  /** Written to the child's stdin, then stdin is closed. */
  input?: string;
  /** Run the program inside this network namespace (a path such as /var/run/netns/x or /proc/PID/ns/net). */
  netns?: string;
  env?: NodeJS.ProcessEnv;
  /** Working directory; the caller's by default. */
  cwd?: string;
  timeoutMs?: number;
  /** Kills the program when it aborts; by default the current deadline's (lib/deadline.ts). */
  signal?: AbortSignal;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class ExecError extends Error {
  readonly result: RunResult;
  readonly command: string;
  constructor(command: string, result: RunResult) {
    super(`cannot run "${command}": exit ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
    this.name = 'ExecError';
    this.command = command;
    this.result = result;
  }
}

function launch(file: string, args: readonly string[], options: RunOptions): { child: ChildProcessWithoutNullStreams; done: Promise<RunResult> } {
  const [cmd, argv] = options.netns ? ['nsenter', [`--net=${options.netns}`, '--', file, ...args]] : [file, [...args]];
  const child = spawn(cmd, argv, {
    env: options.env ?? process.env,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: options.timeoutMs,
    signal: options.signal ?? currentDeadline()?.signal,
  });
  const done = new Promise<RunResult>((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // An abort (the deadline passed) is reported as the kill it causes, through 'close'.
    child.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ABORT_ERR') reject(error);
    });
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString() + (signal ? `killed by ${signal}` : ''),
      }),
    );
  });
  child.stdin.on('error', () => {}); // a child that exits before reading stdin is reported through its exit code
  child.stdin.end(options.input ?? '');
  return { child, done };
}

/** Runs a program and resolves with its exit code and output; never rejects on a non-zero exit. */
export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return launch(file, args, options).done;
}

export interface BackgroundProcess {
  pid: number | undefined;
  /** Settles when the program exits, with everything it wrote. */
  exited: Promise<RunResult>;
  /** Sends a signal (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<RunResult>;
}

/** Starts a long-running program (a daemon, a foreground `ctr run`) without waiting for it. */
export function runInBackground(file: string, args: readonly string[], options: RunOptions = {}): BackgroundProcess {
  const { child, done } = launch(file, args, options);
  return {
    pid: child.pid,
    exited: done,
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return done;
    },
  };
}

/** Like run, but rejects with an ExecError when the program exits non-zero. */
export async function runChecked(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(file, args, options);
  if (result.code !== 0) throw new ExecError([file, ...args].join(' '), result);
  return result;
}

export interface Conversation {
  readonly pid: number | undefined;
  /** Writes to the program's stdin. */
  write(text: string): void;
  /** Settles with the exit code when the program exits (a signal counts as 128). */
  readonly exited: Promise<number>;
  stop(): void;
}

/**
 * Starts a long-running program that is fed on stdin and answers on stderr as it goes (`nft -i`):
 * `onStderr` receives each chunk as it arrives; stdout is discarded.
 */
export function converse(file: string, args: readonly string[], options: { netns?: string; onStderr: (text: string) => void }): Conversation {
  const [cmd, argv] = options.netns ? ['nsenter', [`--net=${options.netns}`, '--', file, ...args]] : [file, [...args]];
  const child = spawn(cmd, argv, { stdio: ['pipe', 'ignore', 'pipe'] });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', options.onStderr);
  child.stdin.on('error', () => {}); // a program that exits early is reported through `exited`
  const exited = new Promise<number>((resolve) => {
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  return {
    pid: child.pid,
    write: (text) => void child.stdin.write(text),
    exited,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
