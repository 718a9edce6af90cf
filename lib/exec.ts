import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { currentDeadline, remainingMs } from './deadline.ts';

// The one place that spawns programs. The CNI hot path uses no spawning library: execa's module
// loading would cost every plugin start more than its spawns (docs/PERFORMANCE.md). node:child_process
// is loaded on a daemon's first spawn only; one-shot commands spawn through runWithoutChildProcess.

function childProcess(): typeof import('node:child_process') {
  return process.getBuiltinModule('node:child_process');
}

const SIGKILL = 9;

function systemError(errno: number, file: string): Error {
  const name = process.getBuiltinModule('node:util').getSystemErrorName(errno);
  return Object.assign(new Error(`spawn ${file} ${name}`), { code: name, errno, syscall: `spawn ${file}`, path: file });
}

/**
 * A one-shot command (a CNI call) spawns through the handles under node:child_process (runWithoutChildProcess):
 * loading that module compiles 37 internal modules (streams, net, dgram) such a call never uses, ~10 ms
 * of every ADD and DEL here (docs/PERFORMANCE.md). Daemons keep node:child_process.
 */
let withoutChildProcess = false;

export function spawnWithoutChildProcess(): void {
  withoutChildProcess = true;
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

/** Runs a program and resolves with its exit code and output; never rejects on a non-zero exit. */
export async function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  if (withoutChildProcess && options.signal === undefined) return runWithoutChildProcess(file, args, options);
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

/** Node's own handles under node:child_process's spawn, which a one-shot call uses without that module. */
interface PipeHandle {
  onread: (buffer?: ArrayBuffer) => void;
  readStart(): number;
  writeUtf8String(req: object, text: string): number;
  close(): void;
}
interface ProcessHandle {
  onexit: (code: number, signal: string) => void;
  /** Node 26's form: file, argv, cwd, environment pairs, stdio, flags, uid, gid. */
  spawn(file: string, args: string[], cwd: string | undefined, envPairs: string[], stdio: object[], flags: number, uid: undefined, gid: undefined): number;
  kill(signal: number): number;
  close(): void;
}
interface Bindings {
  Process: new () => ProcessHandle;
  Pipe: new (type: number) => PipeHandle;
  pipeSocket: number;
  WriteWrap: new () => { handle?: PipeHandle; oncomplete?: (status: number) => void; async?: boolean };
  state: Int32Array;
  readBytes: number;
  readOffset: number;
  writeWasAsync: number;
}

function bindings(): Bindings {
  const binding = (process as unknown as { binding(name: string): Record<string, never> }).binding;
  const { Process } = binding('process_wrap');
  const { Pipe, constants } = binding('pipe_wrap') as unknown as { Pipe: Bindings['Pipe']; constants: { SOCKET: number } };
  const stream = binding('stream_wrap') as Record<string, never>;
  return { Process, Pipe, pipeSocket: constants.SOCKET, WriteWrap: stream['WriteWrap'], state: stream['streamBaseState'], readBytes: stream['kReadBytesOrError'], readOffset: stream['kArrayBufferOffset'], writeWasAsync: stream['kLastWriteWasAsync'] };
}

/**
 * Runs a program on the handles under node:child_process's spawn (process.binding, deprecated in
 * documentation only: the single executable pins the Node it runs on), writing its whole input and
 * closing its stdin. Its timeout or the current deadline, whichever comes first, kills it.
 */
export function runWithoutChildProcess(file: string, args: readonly string[], options: Omit<RunOptions, 'signal'> = {}): Promise<RunResult> {
  const [cmd, argv] = commandLine(file, args, options.netns);
  const b = bindings();
  const pipes = [0, 1, 2].map(() => new b.Pipe(b.pipeSocket));
  const child = new b.Process();
  const env = options.env ?? process.env;
  const output: Buffer[][] = [[], []];
  let exit: { code: number; signal: string } | undefined;
  let open = 3;
  let settle: (result: RunResult) => void = () => {};
  const done = new Promise<RunResult>((resolve) => (settle = resolve));
  const closed = (): void => {
    if (--open > 0 || !exit) return;
    const text = (i: number): string => Buffer.concat(output[i]!).toString();
    settle({ code: exit.signal ? 128 : exit.code, stdout: text(0), stderr: text(1) + (exit.signal ? `killed by ${exit.signal}` : '') });
  };
  child.onexit = (code, signal) => {
    exit = { code, signal };
    child.close();
    closed();
  };
  const error = child.spawn(
    cmd,
    [cmd, ...argv],
    options.cwd,
    Object.entries(env).flatMap(([key, value]) => (value === undefined ? [] : [`${key}=${value}`])),
    pipes.map((handle, i) => ({ type: 'pipe', readable: i === 0, writable: i !== 0, handle })),
    0,
    undefined,
    undefined,
  );
  if (error) {
    for (const pipe of pipes) pipe.close();
    child.close();
    throw systemError(error, cmd);
  }
  for (const i of [1, 2]) {
    const pipe = pipes[i]!;
    pipe.onread = (buffer) => {
      const n = b.state[b.readBytes]!;
      if (n > 0 && buffer) output[i - 1]!.push(Buffer.from(buffer, b.state[b.readOffset], n));
      else if (n < 0) {
        pipe.close();
        closed();
      }
    };
    pipe.readStart();
  }
  const limit = Math.min(options.timeoutMs ?? Infinity, remainingMs() ?? Infinity);
  const kill = (): void => {
    if (!exit) child.kill(SIGKILL);
  };
  const timer = Number.isFinite(limit) ? setTimeout(kill, Math.max(1, Math.ceil(limit))) : undefined;
  void done.then(() => clearTimeout(timer));
  const stdin = pipes[0]!;
  const req = new b.WriteWrap();
  req.handle = stdin;
  req.oncomplete = () => stdin.close();
  req.async = false;
  const input = options.input ?? '';
  // A write the pipe took whole completes at once; a larger one closes stdin when it completes.
  if (input === '' || stdin.writeUtf8String(req, input) !== 0 || !b.state[b.writeWasAsync]) stdin.close();
  return done;
}
