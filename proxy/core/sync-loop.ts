import type { Logger } from '../../lib/log.ts';
import type { HealthRecord } from './healthz.ts';
import { decideSync, INITIAL_RECORD, recordSync, type SyncPeriods, type SyncRecord } from './sync-schedule.ts';

// Runs syncs one at a time when decideSync says so: a timer for the next decision, woken by notify()
// when a change arrives. The wake-up waits for the events already received to be handled (one
// setImmediate), so objects that arrive together (a Service and its EndpointSlice in one read) go
// into one sync. A failed sync is logged and retried (as a full sync, with backoff); the rules
// applied before it stay in place, so the node keeps serving.

export interface SyncLoopOptions {
  readonly periods: SyncPeriods;
  readonly log: Logger;
  /** Performs one sync; throws on failure. */
  readonly run: (kind: 'full' | 'partial') => Promise<void>;
  readonly now?: () => number;
}

export class SyncLoop {
  readonly #options: SyncLoopOptions;
  readonly #now: () => number;
  #record: SyncRecord = INITIAL_RECORD;
  #health: { lastSuccessAt?: number; pendingSince?: number } = {};
  #timer: NodeJS.Timeout | undefined;
  #wake: NodeJS.Immediate | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;

  constructor(options: SyncLoopOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get health(): HealthRecord {
    return { ...this.#health };
  }

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  /** A change arrived: sync soon (as the rate limit allows). */
  notify(): void {
    this.#health.pendingSince ??= this.#now();
    this.#record = { ...this.#record, pending: true };
    if (!this.#running && !this.#wake && !this.#stopped) {
      this.#wake = setImmediate(() => {
        this.#wake = undefined;
        if (!this.#running) this.#schedule();
      });
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearImmediate(this.#wake);
    await this.#running;
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    const decision = decideSync(this.#record, this.#now(), this.#options.periods);
    if (decision.kind === 'idle' || decision.delayMs > 0) {
      // Node timers hold at most 2^31-1 ms; an idle loop looks again at the periodic full sync.
      this.#timer = setTimeout(() => this.#schedule(), Math.min(decision.delayMs, 2 ** 31 - 1));
      return;
    }
    this.#running = this.#sync(decision.kind).finally(() => {
      this.#running = undefined;
      this.#schedule();
    });
  }

  async #sync(kind: 'full' | 'partial'): Promise<void> {
    const startedAt = this.#now();
    const waiting = this.#health.pendingSince;
    this.#health.pendingSince = undefined;
    this.#record = { ...this.#record, pending: false };
    let ok = true;
    try {
      await this.#options.run(kind);
      this.#health.lastSuccessAt = this.#now();
    } catch (error) {
      ok = false;
      if (waiting !== undefined) this.#health.pendingSince = Math.min(waiting, this.#health.pendingSince ?? Infinity);
      this.#options.log.error('sync failed; keeping the rules in place and retrying with a full sync', { kind, failures: this.#record.failures + 1, error });
    }
    this.#record = recordSync(this.#record, { kind, startedAt, ok, pendingAfter: this.#record.pending || !ok }, this.#options.periods);
  }
}
