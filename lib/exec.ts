import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { currentDeadline, remainingMs } from './deadline.ts';

// The one place that spawns programs. The CNI hot path uses node:child_process directly because
// execa's module loading would cost every plugin start more than its spawns (docs/PERFORMANCE.md).
// The module is loaded on the first spawn, so a call that spawns nothing (VERSION, STATUS) never
// pays for it.

function childProcess(): typeof import('node:child_process') {
  return process.getBuiltinModule('node:child_process');
}

/**
 * A one-shot command (a CNI call) has nothing else to do while its program runs: its spawns block,
 * which skips setting up stream objects and event-loop turns for every child (docs/PERFORMANCE.md).
 * Daemons keep the default, so their other work goes on meanwhile.
 */
let blocking = false;

export function spawnBlocking(): void {
  blocking = true;
}

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

/** The program and arguments to spawn: through nsenter when it runs in another network namespace. */
function commandLine(file: string, args: readonly string[], netns: string | undefined): [string, string[]] {
  return netns ? ['nsenter', [`--net=${netns}`, '--', file, ...args]] : [file, [...args]];
}

function launch(file: string, args: readonly string[], options: RunOptions): { child: ChildProcessWithoutNullStreams; done: Promise<RunResult> } {
  const [cmd, argv] = commandLine(file, args, options.netns);
  const child = childProcess().spawn(cmd, argv, {
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

/** The blocking form of launch: the deadline's time left is the program's timeout. */
function runToEnd(file: string, args: readonly string[], options: RunOptions): RunResult {
  const [cmd, argv] = commandLine(file, args, options.netns);
  const left = remainingMs();
  const timeout = Math.ceil(Math.min(options.timeoutMs ?? Infinity, left === undefined ? Infinity : Math.max(1, left)));
  const result = childProcess().spawnSync(cmd, argv, {
    env: options.env ?? process.env,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    input: options.input ?? '',
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    ...(Number.isFinite(timeout) ? { timeout, killSignal: 'SIGKILL' as const } : {}),
  });
  if (result.error && (result.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw result.error;
  const signal = result.signal;
  return { code: result.status ?? (signal ? 128 : 1), stdout: result.stdout ?? '', stderr: (result.stderr ?? '') + (signal ? `killed by ${signal}` : '') };
}

/** Runs a program and resolves with its exit code and output; never rejects on a non-zero exit. */
export async function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  if (blocking && options.signal === undefined) return runToEnd(file, args, options);
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

export interface OpenProcessOptions {
  netns?: string;
  env?: NodeJS.ProcessEnv;
  /** Receives what the program writes to stderr, as it arrives (nothing is kept). */
  onStderr(text: string): void;
  /** Receives its stdout likewise; without it stdout is discarded. */
  onStdout?(text: string): void;
}

export interface OpenProcess {
  pid: number | undefined;
  /** Writes to the program's stdin, which stays open until stop(). */
  write(text: string): void;
  /** Settles when the program exits; its output went to the callbacks. */
  exited: Promise<{ code: number; signal?: NodeJS.Signals }>;
  /** Closes stdin (a batch reader then exits by itself), kills it if it has not exited within graceMs, and waits. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a long-lived program fed on stdin (an `ip -batch -` that outlives many changes). It runs
 * under no call's deadline: its owner stops it.
 */
export function openProcess(file: string, args: readonly string[], options: OpenProcessOptions): OpenProcess {
  const [cmd, argv] = commandLine(file, args, options.netns);
  const child = childProcess().spawn(cmd, argv, { env: options.env ?? process.env, stdio: ['pipe', options.onStdout ? 'pipe' : 'ignore', 'pipe'] });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', options.onStderr);
  if (options.onStdout) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', options.onStdout);
  }
  child.stdin!.on('error', () => {}); // a program that died is reported through exited
  const exited = new Promise<{ code: number; signal?: NodeJS.Signals }>((resolve) => {
    child.on('error', () => resolve({ code: 127 }));
    child.on('close', (code, signal) => resolve(signal ? { code: 128, signal } : { code: code ?? 1 }));
  });
  return {
    pid: child.pid,
    write: (text) => void child.stdin!.write(text),
    exited,
    stop: async (graceMs = 1000) => {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Like run, but rejects with an ExecError when the program exits non-zero. */
export async function runChecked(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(file, args, options);
  if (result.code !== 0) throw new ExecError([file, ...args].join(' '), result);
  return result;
}
