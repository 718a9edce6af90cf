import { openProcess, type OpenProcess } from './exec.ts';
import { IpBatchError } from './ip-batch.ts';

// One long-lived `ip -force -batch -` (or `bridge -force -batch -`) that applies change after change,
// so a daemon pays no process start per change. ip numbers the lines it reads from 1 for its whole
// life and reports a failure as its message(s), then "Command failed -:N" (with -force it goes on).
// Each request ends with a line that always fails, `link show dev .` ("." can never name an
// interface), so that report says the request is done, and every failure before it maps back to one
// of the request's own lines. Everything goes through stderr, which ip does not buffer: one stream,
// in order.

export const DONE_LINE = 'link show dev .';

export interface LineFailure {
  /** 0-based index into the request's lines. */
  index: number;
  line: string;
  message: string;
}

/** Splits ip's stderr into failure reports: each "Command failed -:N" closes the messages printed since the previous one. */
export class BatchReportReader {
  #partial = '';
  #messages: string[] = [];

  /** The failures this chunk completes, by ip's line number. */
  push(chunk: string): { line: number; message: string }[] {
    const text = this.#partial + chunk;
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    const reports: { line: number; message: string }[] = [];
    for (const line of lines) {
      const failed = /^Command failed .*:(\d+)$/.exec(line.trim());
      if (!failed) {
        if (line.trim() !== '') this.#messages.push(line.trim());
        continue;
      }
      reports.push({ line: Number(failed[1]), message: this.#messages.join('; ') });
      this.#messages = [];
    }
    return reports;
  }

  /** What ip printed since its last failure report (the last words of one that exited). */
  unreported(): string {
    return [...this.#messages, this.#partial.trim()].filter((m) => m !== '').join('; ');
  }
}

interface Request {
  lines: readonly string[];
  /** ip's number for the request's first line, and for its closing DONE_LINE. */
  first: number;
  done: number;
  failures: LineFailure[];
  resolve(failures: LineFailure[]): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export interface BatchSessionOptions {
  netns?: string;
  /** A request not answered by then kills the program (a netlink call that never returns). */
  timeoutMs?: number;
}

/** One program and the requests written to it. */
interface Session {
  process: OpenProcess;
  /** Lines written to it so far (ip's count). */
  written: number;
  pending: Request[];
}

export class BatchSession {
  readonly #program: 'ip' | 'bridge';
  readonly #options: BatchSessionOptions;
  #session: Session | undefined;

  constructor(program: 'ip' | 'bridge', options: BatchSessionOptions = {}) {
    this.#program = program;
    this.#options = options;
  }

  /**
   * Applies the lines in order, after every line of earlier requests; resolves with the lines that
   * failed (ip went on past them). Rejects when the program exits or stalls before finishing them:
   * then which of them were applied is unknown, and the next request starts a new program.
   */
  run(lines: readonly string[]): Promise<LineFailure[]> {
    if (lines.length === 0) return Promise.resolve([]);
    const broken = lines.find((line) => /[\n\r]/.test(line));
    if (broken !== undefined) return Promise.reject(new Error(`cannot write ${JSON.stringify(broken)} to ${this.#program} -batch: it holds a line break`));
    const session = this.#ensureSession();
    const first = session.written + 1;
    session.written += lines.length + 1;
    return new Promise<LineFailure[]>((resolve, reject) => {
      const timer = setTimeout(() => this.#end(session, 0), this.#options.timeoutMs ?? 30_000);
      session.pending.push({ lines, first, done: session.written, failures: [], resolve, reject, timer });
      session.process.write(`${[...lines, DONE_LINE].join('\n')}\n`);
    });
  }

  /** Starts the program ahead of the first request, so that request pays no process start. */
  start(): void {
    this.#ensureSession();
  }

  /** The running program has been given lines (so it may hold interface indexes it looked up). */
  get used(): boolean {
    return (this.#session?.written ?? 0) > 0;
  }

  /** Ends the program once it has read what it was given (its input closes); a later run starts another. */
  async close(): Promise<void> {
    if (this.#session) await this.#end(this.#session, 1000);
  }

  #ensureSession(): Session {
    if (this.#session) return this.#session;
    const reader = new BatchReportReader();
    // Assigned before the program can write anything: its reports need the session.
    let session!: Session;
    const process = openProcess(this.#program, ['-force', '-batch', '-'], {
      ...(this.#options.netns ? { netns: this.#options.netns } : {}),
      onStderr: (text) => onReports(session, reader.push(text)),
    });
    session = { process, written: 0, pending: [] };
    this.#session = session;
    void process.exited.then((exit) => {
      if (this.#session === session) this.#session = undefined;
      const why = `${this.#program} exited (${exit.signal ?? `code ${exit.code}`})${reader.unreported() ? `: ${reader.unreported()}` : ''}`;
      for (const request of session.pending.splice(0)) {
        clearTimeout(request.timer);
        request.reject(new IpBatchError(undefined, '', why));
      }
    });
    return session;
  }

  async #end(session: Session, graceMs: number): Promise<void> {
    if (this.#session === session) this.#session = undefined;
    await session.process.stop(graceMs);
  }
}

function onReports(session: Session, reports: readonly { line: number; message: string }[]): void {
  for (const report of reports) {
    const request = session.pending.find((r) => report.line >= r.first && report.line <= r.done);
    if (!request) continue;
    if (report.line < request.done) {
      const index = report.line - request.first;
      request.failures.push({ index, line: request.lines[index]!, message: report.message });
      continue;
    }
    // Lines are read in order: every request before this one is done too.
    while (session.pending[0] && session.pending[0].done <= request.done) {
      const finished = session.pending.shift()!;
      clearTimeout(finished.timer);
      finished.resolve(finished.failures);
    }
  }
}
