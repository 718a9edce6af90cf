// Exponential retry pacing shared by the daemons: base, doubling per failure, capped.

export interface BackoffLimits {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** Delay before retry number `attempt` (0: the first retry). */
export function backoffDelayMs(attempt: number, limits: BackoffLimits): number {
  // The exponent is capped only so the power stays finite; maxMs caps the delay long before.
  return Math.min(limits.maxMs, limits.baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
}

/** Stateful form for retry loops: each nextDelayMs() doubles, reset() after a success. */
export class Backoff {
  private attempt = 0;
  private readonly limits: BackoffLimits;
  constructor(limits: Partial<BackoffLimits> = {}) {
    this.limits = { baseMs: limits.baseMs ?? 500, maxMs: limits.maxMs ?? 30_000 };
  }
  reset(): void {
    this.attempt = 0;
  }
  nextDelayMs(): number {
    const delay = backoffDelayMs(this.attempt, this.limits);
    this.attempt = Math.min(this.attempt + 1, 30);
    return delay;
  }
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
