// Retry pacing shared by the daemon's loops: exponential from 0.5 s, capped, reset on success.

export class Backoff {
  private attempt = 0;
  private readonly maxMs: number;
  constructor(maxMs = 30_000) {
    this.maxMs = maxMs;
  }
  reset(): void {
    this.attempt = 0;
  }
  nextDelayMs(): number {
    const delay = Math.min(this.maxMs, 500 * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 16);
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
