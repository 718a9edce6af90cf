import type { CaseResult } from './proxy-case.ts';
import { ratio } from './stats.ts';

// The printed table of bench:proxy: per size, each proxy's figures, then weft-proxy over kube-proxy
// in the same mode and weft-proxy's nftables endpoint change over the `nft -f` floor, as ratios, and
// the issue's targets at the largest size. Pure: results in, lines out.

/** " (state 190 ms, render 160 ms, ...)" when weft-proxy logged its full sync's parts. */
function syncPhases(split: NonNullable<CaseResult['fullSyncSplit']>): string {
  const phases = Object.entries(split.syncPhasesMs ?? {});
  return phases.length === 0 ? '' : ` (${phases.map(([name, value]) => `${name} ${ms(value)}`).join(', ')})`;
}

export function ms(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${value.toFixed(value < 100 ? 1 : 0)} ms`;
}

const mib = (value: number | undefined) => (value === undefined ? '-' : String(value));

function row(r: CaseResult): string {
  const name = `${r.proxy} ${r.mode}`.padEnd(20);
  if (r.skipped) return `${String(r.services).padStart(7)}  ${name} ${r.skipped}`;
  const change = r.endpointChange ? `${ms(r.endpointChange.p50)} / ${ms(r.endpointChange.p95)}${r.endpointChange.missed > 0 ? ` (${r.endpointChange.missed} missed)` : ''}` : '-';
  const memory = `${mib(r.afterFullSync?.rssMiB)} / ${mib(r.afterChanges?.rssMiB)} (${mib(r.afterFullSync?.heapMiB)} / ${mib(r.afterFullSync?.heapHeldMiB)})`;
  return [
    String(r.services).padStart(7),
    name,
    ms(r.fullSyncMs).padStart(9),
    change.padStart(21),
    `${ms(r.serviceAddMs)} / ${ms(r.serviceDeleteMs)}`.padStart(19),
    memory.padStart(22),
    String(r.cpuSeconds ?? '-').padStart(7),
  ].join('  ');
}

export interface Ratios {
  readonly mode: string;
  readonly fullSync?: number;
  readonly endpointChangeP50?: number;
  readonly endpointChangeP95?: number;
  readonly serviceAdd?: number;
  readonly serviceDelete?: number;
  readonly rss?: number;
  readonly cpu?: number;
}

function pair(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined && b > 0 ? ratio(a, b) : undefined;
}

/** weft-proxy over kube-proxy, per mode, for one size. */
export function ratios(results: readonly CaseResult[]): Ratios[] {
  return (['nftables', 'iptables'] as const).flatMap((mode) => {
    const weft = results.find((r) => r.proxy === 'weft-proxy' && r.mode === mode && !r.skipped);
    const kube = results.find((r) => r.proxy === 'kube-proxy' && r.mode === mode && !r.skipped);
    if (!weft || !kube) return [];
    return [{
      mode,
      ...opt('fullSync', pair(weft.fullSyncMs, kube.fullSyncMs)),
      ...opt('endpointChangeP50', pair(weft.endpointChange?.p50, kube.endpointChange?.p50)),
      ...opt('endpointChangeP95', pair(weft.endpointChange?.p95, kube.endpointChange?.p95)),
      ...opt('serviceAdd', pair(weft.serviceAddMs, kube.serviceAddMs)),
      ...opt('serviceDelete', pair(weft.serviceDeleteMs, kube.serviceDeleteMs)),
      ...opt('rss', pair(weft.afterChanges?.rssMiB, kube.afterChanges?.rssMiB)),
      ...opt('cpu', pair(weft.cpuSeconds, kube.cpuSeconds)),
    }];
  });
}

function opt<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

export function reportLines(size: number, results: readonly CaseResult[]): string[] {
  const lines = results.map(row);
  for (const r of ratios(results)) {
    const show = (label: string, v: number | undefined) => `${label} ${v ?? '-'}`;
    lines.push(`${String(size).padStart(7)}  weft/kube-proxy ${r.mode.padEnd(8)}: ${[show('full sync', r.fullSync), show('change p50', r.endpointChangeP50), show('p95', r.endpointChangeP95), show('add', r.serviceAdd), show('delete', r.serviceDelete), show('RSS', r.rss), show('CPU', r.cpu)].join(', ')}`);
  }
  const weft = results.find((r) => r.proxy === 'weft-proxy' && r.mode === 'nftables' && r.floor);
  if (weft?.floor && weft.endpointChange) {
    const sync = weft.breakdown?.syncMs;
    lines.push(`${String(size).padStart(7)}  nft -f floor of an endpoint change p50 ${ms(weft.floor.p50)} (p95 ${ms(weft.floor.p95)}): weft end to end / floor ${ratio(weft.endpointChange.p50, weft.floor.p50)}, weft sync / floor ${sync !== undefined ? ratio(sync, weft.floor.p50) : '-'}`);
    if (weft.floor.fullSyncMs !== undefined && weft.fullSyncMs !== undefined) lines.push(`${String(size).padStart(7)}  nft -f floor of the full sync payload ${ms(weft.floor.fullSyncMs)}: weft full sync from process start / floor ${ratio(weft.fullSyncMs, weft.floor.fullSyncMs)}`);
  }
  for (const r of results) {
    const f = r.fullSyncSplit;
    if (f) lines.push(`${String(size).padStart(7)}  ${r.proxy} ${r.mode}: full sync = start-up ${ms(f.startupMs)} + listing ${ms(f.listMs)} + sync ${ms(f.syncMs)}${syncPhases(f)} (+ the rest until the kernel's report is seen)`);
    const b = r.breakdown;
    if (b && b.matched > 0) {
      lines.push(`${String(size).padStart(7)}  ${r.proxy} ${r.mode}: write -> API answer ${ms(b.writeToAnswerMs)}, write -> arrival ${ms(b.writeToArrivalMs)}, arrival -> sync ${ms(b.arrivalToSyncMs)}, sync ${ms(b.syncMs)}, sync end -> seen ${ms(b.syncEndToSeenMs)} (medians of ${b.matched})`);
    }
  }
  return lines;
}

export const HEADER = `${'Services'.padStart(7)}  ${'proxy'.padEnd(20)} ${'full sync'.padStart(9)}  ${'change p50 / p95'.padStart(21)}  ${'add / delete'.padStart(19)}  ${'RSS full / 100 chg (heap used / held) MiB'.padStart(22)}  ${'CPU s'.padStart(7)}`;
