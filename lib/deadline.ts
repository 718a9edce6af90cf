import { AsyncLocalStorage } from 'node:async_hooks';

// The time a piece of work may take, carried with the work itself: every program spawned inside it
// (lib/exec.ts) is killed when it expires, so a plugin call cannot hang on a child. A CNI call runs
// under one deadline; undoing a failed call runs under a short one of its own, since the call's may
// already be spent.

export interface Deadline {
  readonly signal: AbortSignal;
  /** Date.now() at expiry. */
  readonly at: number;
  /** Time kept after expiry for undoing the work (the undo log's own deadline). */
  readonly reserveMs: number;
}

const current = new AsyncLocalStorage<Deadline>();

/** The deadline of the work this code runs in, if any. */
export function currentDeadline(): Deadline | undefined {
  return current.getStore();
}

/** Milliseconds left before the current deadline; undefined without one. */
export function remainingMs(now: number = Date.now()): number | undefined {
  const deadline = current.getStore();
  return deadline === undefined ? undefined : Math.max(0, deadline.at - now);
}

export interface DeadlineRun<T> {
  readonly deadline: Deadline;
  /** The work's own outcome (it goes on settling after expiry: spawned programs are killed then). */
  readonly work: Promise<T>;
  /** Resolves when the deadline expires (never when the work settles first). */
  readonly expired: Promise<void>;
  /** Stops the timer once the caller no longer needs it. */
  clear(): void;
}

/** Starts `work` under a deadline `ms` from now, with `reserveMs` kept after it for undoing the work. */
export function startWithDeadline<T>(ms: number, work: () => Promise<T>, reserveMs = 0): DeadlineRun<T> {
  const controller = new AbortController();
  const deadline: Deadline = { signal: controller.signal, at: Date.now() + ms, reserveMs };
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error(`deadline of ${ms} ms passed`));
      resolve();
    }, ms);
    timer.unref();
  });
  return { deadline, work: current.run(deadline, work), expired, clear: () => clearTimeout(timer) };
}

/** Runs `work` under its own deadline and rejects when it has not settled by then. */
export async function withDeadline<T>(ms: number, work: () => Promise<T>): Promise<T> {
  const run = startWithDeadline(ms, work);
  try {
    return await Promise.race([run.work, run.expired.then((): never => { throw new Error(`cannot finish within ${ms} ms`); })]);
  } finally {
    run.clear();
  }
}
