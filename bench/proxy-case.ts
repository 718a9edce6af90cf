import { writeFileSync } from 'node:fs';
import { deleteNetns, type Netns } from '../test/support/netns.ts';
import { epochMs, sleep } from './proxy-clock.ts';
import { collectionPath, createNode, objectPath, patchEndpoints, type ClusterContext } from './proxy-cluster.ts';
import { changeFloor, fullSyncFloor, type FloorResult } from './proxy-floor.ts';
import { heapFigures, type KernelWatch, type ProxyImplementation, type RunningProxy } from './proxy-implementations.ts';
import { waitForQuietMachine } from './machine-idle.ts';
import { cpuSeconds, memory, type MemorySample } from './process-stats.ts';
import { BENCH_NODE, changedAddresses, endpointAddresses, serviceObject, sliceObject } from './proxy-objects.ts';
import { summarize, type Summary } from './stats.ts';
import { fullSyncSplit, syncBreakdown, type Breakdown, type FullSyncSplit } from './proxy-sync-log.ts';

// One proxy at one cluster size, measured from outside the same way for every proxy: process start to
// the last Service's rules in the kernel (full sync), API write to the rule in the kernel for each
// endpoint change (written 2 s apart, so neither proxy's min-sync-period delays one), a Service added and
// deleted, memory after the full sync and after the changes, and CPU time.

const CHANGE_SPACING_MS = 2000;
const SETTLE_MS = 3000;
/** Writes per second of the untimed changes that bring the total to `memoryChanges`. */
const BURST_RATE = 20;
/** Services added for the add/delete measurement: far above the generated ones. */
const ADDED_SERVICE = 60_000;

export interface CaseOptions {
  readonly services: number;
  readonly endpoints: number;
  /** Timed endpoint changes. */
  readonly changes: number;
  /** Endpoint changes made in all before memory is sampled again. */
  readonly memoryChanges: number;
  readonly limitMs: number;
  /** First replacement address of this case's changes (each change writes a new one). */
  readonly changeBase: number;
}

export interface CaseResult {
  readonly proxy: string;
  readonly mode: string;
  readonly services: number;
  /** How long the case waited for a quiet machine before starting the proxy, and the idle share it started at. */
  readonly quiet?: { readonly waitedMs: number; readonly idle: number; readonly quiet: boolean };
  /** Process start to the last Service's rules present; undefined past the limit. */
  readonly fullSyncMs?: number;
  readonly fullSyncCpuS?: number;
  /** API write to the rule in the kernel, per timed endpoint change. */
  readonly endpointChange?: Summary & { readonly samples: readonly number[]; readonly missed: number; readonly missedChanges?: readonly { index: number; ip: string; sentAt: number }[] };
  /** Where weft-proxy's part of each change went (its own log). */
  readonly breakdown?: Breakdown;
  /** weft-proxy only: its full sync split into start-up, listing and the sync. */
  readonly fullSyncSplit?: FullSyncSplit;
  readonly serviceAddMs?: number;
  readonly serviceDeleteMs?: number;
  readonly afterFullSync?: MemorySample;
  readonly afterChanges?: MemorySample;
  readonly cpuSeconds?: number;
  /** The same element update applied with `nft -f` alone (weft-proxy nftables). */
  readonly floor?: FloorResult;
  readonly skipped?: string;
}

interface TimedChange {
  readonly index: number;
  readonly ip: string;
  readonly sentAt: number;
  /** When the API server answered the write. */
  readonly doneAt: number;
  readonly seenAt?: number;
}

/** `count` endpoint changes of different Services, spaced out; each timed from its write to its rule. */
async function timedChanges(ctx: ClusterContext, watch: KernelWatch, c: CaseOptions): Promise<TimedChange[]> {
  const timed: TimedChange[] = [];
  for (let i = 0; i < c.changes; i++) {
    const index = Math.floor(((i + 0.5) * c.services) / c.changes);
    const addresses = changedAddresses(index, c.endpoints, c.changeBase + i);
    const write = await patchEndpoints(ctx, index, addresses);
    const ip = addresses.at(-1) as string;
    const seenAt = await watch.endpoint(index, ip, write.sentAt, write.sentAt + c.limitMs);
    timed.push({ index, ip, sentAt: write.sentAt, doneAt: write.doneAt, ...(seenAt !== undefined ? { seenAt } : {}) });
    const next = write.sentAt + CHANGE_SPACING_MS;
    await sleep(Math.max(0, next - epochMs()));
  }
  return timed;
}

/** The remaining changes up to `memoryChanges`, written at BURST_RATE; resolves once the last is in the kernel. */
async function burstOfChanges(ctx: ClusterContext, watch: KernelWatch, c: CaseOptions): Promise<void> {
  let last: { index: number; ip: string; sentAt: number } | undefined;
  for (let i = c.changes; i < c.memoryChanges; i++) {
    const index = (i * 7919) % c.services;
    const addresses = changedAddresses(index, c.endpoints, c.changeBase + i);
    const write = await patchEndpoints(ctx, index, addresses);
    last = { index, ip: addresses.at(-1) as string, sentAt: write.sentAt };
    await sleep(1000 / BURST_RATE);
  }
  if (last) await watch.endpoint(last.index, last.ip, last.sentAt, last.sentAt + c.limitMs);
}

/** A new Service with its slice, then its deletion; each timed from the first write to its rule appearing or going. */
async function addAndDelete(ctx: ClusterContext, watch: KernelWatch, c: CaseOptions & { index: number }): Promise<{ addMs?: number; deleteMs?: number }> {
  const service = serviceObject(c.index);
  const slice = sliceObject(c.index, endpointAddresses(c.index, c.endpoints));
  const added = await ctx.api.request('POST', collectionPath(service), service);
  await ctx.api.request('POST', collectionPath(slice), slice);
  const addedAt = await watch.service(c.index, true, added.sentAt, added.sentAt + c.limitMs);
  await sleep(CHANGE_SPACING_MS);
  const deleted = await ctx.api.request('DELETE', objectPath(service));
  await ctx.api.request('DELETE', objectPath(slice));
  const deletedAt = await watch.service(c.index, false, deleted.sentAt, deleted.sentAt + c.limitMs);
  return { ...(addedAt !== undefined ? { addMs: Math.round(addedAt - added.sentAt) } : {}), ...(deletedAt !== undefined ? { deleteMs: Math.round(deletedAt - deleted.sentAt) } : {}) };
}

/** Both nftables floors: the change floor while the monitor listens, as the changes were seen; the full sync floor once it is closed. */
async function floors(ctx: ClusterContext, node: Netns, watch: KernelWatch, c: CaseOptions): Promise<FloorResult> {
  const change = await changeFloor(node, { ...c, base: c.changeBase + c.memoryChanges });
  await watch.close();
  const fullSyncMs = await fullSyncFloor({ ...c, scope: ctx.scope });
  return { ...change, ...(fullSyncMs !== undefined ? { fullSyncMs } : {}) };
}

export async function runCase(ctx: ClusterContext, impl: ProxyImplementation, c: CaseOptions): Promise<CaseResult> {
  const { node, nodeName } = await createNode(ctx, BENCH_NODE);
  const quiet = await waitForQuietMachine();
  ctx.progress(`  machine ${quiet.quiet ? 'quiet' : 'still busy'} after ${(quiet.waitedMs / 1000).toFixed(1)} s (idle ${Math.round(quiet.idle * 100)}%)`);
  const base = { proxy: impl.proxy, mode: impl.mode, services: c.services, quiet };
  let proxy: RunningProxy | undefined;
  let watch: KernelWatch | undefined;
  try {
    const fullSync = await impl.watchFullSync(node);
    const started = epochMs();
    proxy = await impl.start(node, { kubeconfig: ctx.kubeconfig, nodeName });
    const last = { index: c.services - 1, ip: endpointAddresses(c.services - 1, c.endpoints).at(-1) as string };
    const doneAt = await fullSync.wait(last, started + c.limitMs).finally(() => fullSync.close());
    const fullSyncMs = doneAt === undefined ? undefined : Math.round(doneAt - started);
    const fullSyncCpuS = cpuSeconds(proxy.pid);
    if (fullSyncMs === undefined) return { ...base, skipped: `no full sync within ${c.limitMs / 1000} s`, afterFullSync: memory(proxy.pid) };
    ctx.progress(`  full sync ${fullSyncMs} ms`);
    await sleep(SETTLE_MS);
    const afterFullSync = memory(proxy.pid, await heapFigures(node, impl.proxy));
    watch = await impl.watch(node);
    const timed = await timedChanges(ctx, watch, c);
    const samples = timed.flatMap((t) => (t.seenAt === undefined ? [] : [Math.round((t.seenAt - t.sentAt) * 10) / 10]));
    ctx.progress(`  ${samples.length} endpoint changes, p50 ${summarize(samples).p50} ms`);
    await burstOfChanges(ctx, watch, c);
    await sleep(SETTLE_MS);
    const afterChanges = memory(proxy.pid, await heapFigures(node, impl.proxy));
    const { addMs, deleteMs } = await addAndDelete(ctx, watch, { ...c, index: ADDED_SERVICE + ctx.nodes });
    const cpu = cpuSeconds(proxy.pid);
    const log = await proxy.close();
    proxy = undefined;
    if (log !== '' && ctx.logFile) writeFileSync(ctx.logFile(`${impl.proxy}-${impl.mode}-${c.services}`), log, { mode: 0o600 });
    const split = impl.proxy === 'weft-proxy' ? fullSyncSplit(log, started) : undefined;
    const floor = impl.proxy === 'weft-proxy' && impl.mode === 'nftables' ? await floors(ctx, node, watch, c) : undefined;
    watch = undefined;
    return {
      ...base,
      fullSyncMs,
      ...(fullSyncCpuS !== undefined ? { fullSyncCpuS } : {}),
      endpointChange: { ...summarize(samples), samples, missed: timed.length - samples.length, missedChanges: timed.filter((t) => t.seenAt === undefined).map(({ index, ip, sentAt }) => ({ index, ip, sentAt })) },
      ...(impl.proxy === 'weft-proxy' ? { breakdown: syncBreakdown(log, timed) } : {}),
      ...(split ? { fullSyncSplit: split } : {}),
      ...(addMs !== undefined ? { serviceAddMs: addMs } : {}),
      ...(deleteMs !== undefined ? { serviceDeleteMs: deleteMs } : {}),
      afterFullSync,
      afterChanges,
      ...(cpu !== undefined ? { cpuSeconds: cpu } : {}),
      ...(floor ? { floor } : {}),
    };
  } finally {
    await watch?.close();
    await proxy?.close();
    await deleteNetns(node.name);
  }
}
