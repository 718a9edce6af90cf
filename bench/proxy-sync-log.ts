import { summarize } from './stats.ts';

// Where weft-proxy's part of an endpoint change goes, from its own "synced" log lines: each partial
// sync names when its first change arrived (firstChangeAt, on the benchmark's clock), how long that
// change waited for the sync to start, and how long the sync took (desired state, rendering, `nft -f`
// or `iptables-restore`). Matched to the benchmark's writes, that splits API write -> rule in the
// kernel into: the API server and the watch (write to arrival), batching (arrival to sync start), the
// sync, and what is left (the kernel's report reaching the benchmark). The API server's answer to the
// write is timed too: write to answer is the API server's own part (with etcd's write).

export interface Breakdown {
  /** Changes matched to a sync. */
  readonly matched: number;
  /** Medians, ms. */
  readonly writeToAnswerMs: number;
  readonly writeToArrivalMs: number;
  readonly arrivalToSyncMs: number;
  readonly syncMs: number;
  readonly syncEndToSeenMs: number;
}

/** Where weft-proxy's full sync from process start goes, from its log: start-up, listing, the sync. */
export interface FullSyncSplit {
  /** Process start to its "started" line (loading the executable, flags, listeners). */
  readonly startupMs: number;
  /** "started" to "informers synced": every Service and EndpointSlice listed and decoded. */
  readonly listMs: number;
  /** The first full sync itself: desired state, rendering, applying. */
  readonly syncMs: number;
  /** The sync's parts as weft-proxy logs them (state, render, kernel, then the cleanup of other modes). */
  readonly syncPhasesMs?: Readonly<Record<string, number>>;
}

interface LogLine {
  readonly time?: string;
  readonly msg?: string;
  readonly kind?: string;
  readonly ms?: number;
  readonly firstChangeAt?: number;
  readonly waitedMs?: number;
  readonly phasesMs?: Readonly<Record<string, number>>;
}

function logLines(log: string): LogLine[] {
  return log.split('\n').flatMap((text) => {
    if (!text.startsWith('{')) return [];
    try {
      return [JSON.parse(text) as LogLine];
    } catch {
      return [];
    }
  });
}

export function fullSyncSplit(log: string, startedAt: number): FullSyncSplit | undefined {
  const lines = logLines(log);
  const at = (msg: string) => {
    const time = lines.find((l) => l.msg === msg)?.time;
    return time === undefined ? undefined : Date.parse(time);
  };
  const started = at('started');
  const listed = at('informers synced');
  const full = lines.find((l) => l.msg === 'synced' && l.kind === 'full');
  if (started === undefined || listed === undefined || full?.ms === undefined) return undefined;
  return { startupMs: Math.round(started - startedAt), listMs: listed - started, syncMs: Math.round(full.ms), ...(full.phasesMs ? { syncPhasesMs: full.phasesMs } : {}) };
}

interface SyncLine {
  readonly firstChangeAt: number;
  readonly waitedMs: number;
  readonly ms: number;
}

export function partialSyncs(log: string): SyncLine[] {
  return logLines(log).flatMap((l) =>
    l.msg === 'synced' && l.kind === 'partial' && l.firstChangeAt !== undefined && l.waitedMs !== undefined && l.ms !== undefined ? [{ firstChangeAt: l.firstChangeAt, waitedMs: l.waitedMs, ms: l.ms }] : [],
  );
}

export function syncBreakdown(log: string, writes: readonly { sentAt: number; doneAt: number; seenAt?: number }[]): Breakdown {
  const syncs = partialSyncs(log);
  const parts = { answer: [] as number[], arrival: [] as number[], batching: [] as number[], sync: [] as number[], after: [] as number[] };
  for (const w of writes) {
    if (w.seenAt === undefined) continue;
    const sync = syncs.find((s) => s.firstChangeAt >= w.sentAt && s.firstChangeAt <= (w.seenAt as number));
    if (!sync) continue;
    parts.answer.push(w.doneAt - w.sentAt);
    parts.arrival.push(sync.firstChangeAt - w.sentAt);
    parts.batching.push(sync.waitedMs);
    parts.sync.push(sync.ms);
    parts.after.push(w.seenAt - (sync.firstChangeAt + sync.waitedMs + sync.ms));
  }
  const median = (values: number[]) => Math.round(summarize(values).p50 * 10) / 10;
  return { matched: parts.arrival.length, writeToAnswerMs: median(parts.answer), writeToArrivalMs: median(parts.arrival), arrivalToSyncMs: median(parts.batching), syncMs: median(parts.sync), syncEndToSeenMs: median(parts.after) };
}
