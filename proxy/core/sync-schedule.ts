import { backoffDelayMs } from '../../lib/backoff.ts';

// When the next sync runs and what kind it is, decided from the loop's record and the clock alone.
// Full syncs (rebuild everything) at start, after a failure and every sync period; partial syncs
// (changed Services only) for changes. Syncs are rate-limited as kube-proxy's are: a token bucket
// refilling one token per min-sync-period, holding at most two, so a change right after a quiet spell
// (a Service and then its EndpointSlice) is synced at once while a steady stream of changes is
// batched into one sync per min-sync-period. Failures back off exponentially.

/** Syncs that may start back to back after a quiet spell (kube-proxy's burstSyncs). */
export const BURST_SYNCS = 2;

export interface SyncRecord {
  /** When the last sync attempt started (ms); undefined before the first. */
  readonly lastStartAt?: number;
  /** When the last successful full sync started. */
  readonly lastFullAt?: number;
  /** Sync starts available at `lastStartAt` after it took its own (see BURST_SYNCS). */
  readonly tokens: number;
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

export const INITIAL_RECORD: SyncRecord = { tokens: BURST_SYNCS, needFull: true, pending: false, failures: 0 };

export function backoffMs(failures: number, periods: SyncPeriods): number {
  if (failures <= 0) return 0;
  return backoffDelayMs(failures - 1, { baseMs: periods.baseBackoffMs, maxMs: periods.maxBackoffMs });
}

/** Tokens in the bucket at `now`. */
function tokensAt(record: SyncRecord, now: number, periods: SyncPeriods): number {
  if (record.lastStartAt === undefined || periods.minSyncPeriodMs <= 0) return BURST_SYNCS;
  return Math.min(BURST_SYNCS, record.tokens + (now - record.lastStartAt) / periods.minSyncPeriodMs);
}

/** What to run next and in how many ms (0: now). An idle decision's delay is when to look again. */
export function decideSync(record: SyncRecord, now: number, periods: SyncPeriods): SyncDecision {
  const periodicDue = record.lastFullAt === undefined ? now : record.lastFullAt + periods.syncPeriodMs;
  const full = record.needFull || record.lastFullAt === undefined || now >= periodicDue;
  if (!full && !record.pending) return { kind: 'idle', delayMs: Math.max(0, periodicDue - now) };
  const waitForToken = Math.max(0, (1 - tokensAt(record, now, periods)) * periods.minSyncPeriodMs);
  const waitForBackoff = record.lastStartAt === undefined ? 0 : record.lastStartAt + backoffMs(record.failures, periods) - now;
  return { kind: full ? 'full' : 'partial', delayMs: Math.ceil(Math.max(0, waitForToken, waitForBackoff)) };
}

/** The record after an attempt that started at `startedAt`. */
export function recordSync(record: SyncRecord, attempt: { kind: 'full' | 'partial'; startedAt: number; ok: boolean; pendingAfter: boolean }, periods: SyncPeriods): SyncRecord {
  const tokens = Math.max(0, tokensAt(record, attempt.startedAt, periods) - 1);
  if (!attempt.ok) return { ...record, lastStartAt: attempt.startedAt, tokens, needFull: true, pending: attempt.pendingAfter, failures: record.failures + 1 };
  return {
    ...record,
    lastStartAt: attempt.startedAt,
    tokens,
    ...(attempt.kind === 'full' ? { lastFullAt: attempt.startedAt } : {}),
    needFull: false,
    pending: attempt.pendingAfter,
    failures: 0,
  };
}
