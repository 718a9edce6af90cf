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

interface SyncLine {
  readonly firstChangeAt: number;
  readonly waitedMs: number;
  readonly ms: number;
}

export function partialSyncs(log: string): SyncLine[] {
  const lines: SyncLine[] = [];
  for (const text of log.split('\n')) {
    if (!text.includes('"msg":"synced"')) continue;
    const entry = JSON.parse(text) as { kind?: string; firstChangeAt?: number; waitedMs?: number; ms?: number };
    if (entry.kind === 'partial' && entry.firstChangeAt !== undefined && entry.waitedMs !== undefined && entry.ms !== undefined) lines.push({ firstChangeAt: entry.firstChangeAt, waitedMs: entry.waitedMs, ms: entry.ms });
  }
  return lines;
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
