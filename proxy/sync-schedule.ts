import { backoffDelayMs } from '../lib/backoff.ts';

// When the next sync runs and what kind it is, decided from the loop's record and the clock alone.
// Full syncs (re-read the kernel, rewrite every chain) at start, after a failure and every sync
// period; partial syncs (changed Services' chains only) for changes; min-sync-period between the
// starts of two syncs batches bursts; failures back off exponentially.

export interface SyncRecord {
  /** When the last sync attempt started (ms); undefined before the first. */
  readonly lastStartAt?: number;
  /** When the last successful full sync started. */
  readonly lastFullAt?: number;
  /** Set at start-up and by a failure: the next sync re-reads the kernel and rewrites everything. */
  readonly needFull: boolean;
  /** Changes are waiting. */
  readonly pending: boolean;
  /** Failed attempts since the last success. */
  readonly failures: number;
}

export interface SyncPeriods {
  readonly minSyncPeriodMs: number;
  readonly syncPeriodMs: number;
  /** First retry delay after a failure; doubles per failure up to maxBackoffMs. */
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
}

export type SyncDecision = { readonly kind: 'full' | 'partial'; readonly delayMs: number } | { readonly kind: 'idle'; readonly delayMs: number };

export const INITIAL_RECORD: SyncRecord = { needFull: true, pending: false, failures: 0 };

export function backoffMs(failures: number, periods: SyncPeriods): number {
  if (failures <= 0) return 0;
  return backoffDelayMs(failures - 1, { baseMs: periods.baseBackoffMs, maxMs: periods.maxBackoffMs });
}

/** What to run next and in how many ms (0: now). An idle decision's delay is when to look again. */
export function decideSync(record: SyncRecord, now: number, periods: SyncPeriods): SyncDecision {
  const periodicDue = record.lastFullAt === undefined ? now : record.lastFullAt + periods.syncPeriodMs;
  const full = record.needFull || record.lastFullAt === undefined || now >= periodicDue;
  if (!full && !record.pending) return { kind: 'idle', delayMs: Math.max(0, periodicDue - now) };
  const earliest = Math.max(
    record.lastStartAt === undefined ? now : record.lastStartAt + periods.minSyncPeriodMs,
    record.lastStartAt === undefined ? now : record.lastStartAt + backoffMs(record.failures, periods),
  );
  return { kind: full ? 'full' : 'partial', delayMs: Math.max(0, earliest - now) };
}

/** The record after an attempt that started at `startedAt`. */
export function recordSync(record: SyncRecord, attempt: { kind: 'full' | 'partial'; startedAt: number; ok: boolean; pendingAfter: boolean }): SyncRecord {
  if (!attempt.ok) return { ...record, lastStartAt: attempt.startedAt, needFull: true, pending: attempt.pendingAfter, failures: record.failures + 1 };
  return {
    ...record,
    lastStartAt: attempt.startedAt,
    ...(attempt.kind === 'full' ? { lastFullAt: attempt.startedAt } : {}),
    needFull: false,
    pending: attempt.pendingAfter,
    failures: 0,
  };
}
