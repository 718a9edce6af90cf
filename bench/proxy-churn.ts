import { deleteNetns, type Netns } from '../test/support/netns.ts';
import { epochMs, sleep } from './proxy-clock.ts';
import { RepeatedListing } from './netns-listing.ts';
import { createNode, patchEndpoints, type ClusterContext } from './proxy-cluster.ts';
import { heapFigures, type ProxyImplementation, type RunningProxy } from './proxy-implementations.ts';
import { NftMonitor } from './proxy-kernel.ts';
import { cpuSeconds, memory, type MemorySample } from './process-stats.ts';
import { BENCH_NODE, changedAddresses, endpointAddresses } from './proxy-objects.ts';
import { summarize, type Summary } from './stats.ts';

// bench:proxy --churn: a Deployment-like churn (one endpoint of a Service replaced by a new address,
// `rate` times a second, round-robin over the Services) for `seconds`, against a proxy that has
// synced `services` Services. Every change's API write is timed to its new address appearing in the
// kernel (network programming latency); memory is sampled before, at the end and a while after.

/** The addresses changes write (proxy-objects.ts replacementIP). */
const REPLACEMENT = /10\.19[2-9]\.\d+\.\d+/g;
const AFTER_MS = 30_000;
const POLL_MS = 100;

export interface ChurnOptions {
  readonly services: number;
  readonly endpoints: number;
  readonly rate: number;
  readonly seconds: number;
  readonly limitMs: number;
  readonly changeBase: number;
  readonly variant: 'nft' | 'legacy';
}

export interface ChurnResult {
  readonly proxy: string;
  readonly mode: string;
  readonly changes: number;
  readonly latency: Summary & { readonly missed: number };
  readonly before: MemorySample;
  readonly atEnd: MemorySample;
  readonly after: MemorySample;
  readonly cpuSeconds?: number;
}

/** First sighting of each replacement address in the node's kernel. */
async function sightings(node: Netns, mode: string, variant: string): Promise<{ seen: Map<string, number>; stop: () => Promise<void> }> {
  const seen = new Map<string, number>();
  const note = (text: string, at: number) => {
    for (const ip of text.match(REPLACEMENT) ?? []) if (!seen.has(ip)) seen.set(ip, at);
  };
  if (mode === 'nftables') {
    const monitor = await NftMonitor.start(node.path);
    monitor.onLine(({ at, line }) => {
      if (line.startsWith('add ')) note(line, at);
    });
    return { seen, stop: () => monitor.close() };
  }
  const listing = new RepeatedListing(node.path, [`iptables-${variant}-save`, '-t', 'nat']);
  let polling = true;
  const loop = (async () => {
    while (polling) {
      note(await listing.list(), epochMs());
      await sleep(POLL_MS);
    }
  })();
  return {
    seen,
    stop: async () => {
      polling = false;
      await loop;
      await listing.close();
    },
  };
}

async function sample(node: Netns, impl: ProxyImplementation, pid: number): Promise<MemorySample> {
  return memory(pid, await heapFigures(node, impl.proxy));
}

export async function runChurn(ctx: ClusterContext, impl: ProxyImplementation, c: ChurnOptions): Promise<ChurnResult> {
  const { node, nodeName } = await createNode(ctx, BENCH_NODE);
  let proxy: RunningProxy | undefined;
  try {
    const fullSync = await impl.watchFullSync(node);
    proxy = await impl.start(node, { kubeconfig: ctx.kubeconfig, nodeName });
    // The first endpoint: churn replaces only the last one, so an earlier proxy's churn left it in place.
    const last = { index: c.services - 1, ip: endpointAddresses(c.services - 1, c.endpoints)[0] as string };
    const synced = await fullSync.wait(last, epochMs() + c.limitMs).finally(() => fullSync.close());
    if (synced === undefined) throw new Error(`cannot run the churn: ${impl.name} did not sync ${c.services} Services within ${c.limitMs / 1000} s`);
    await sleep(3000);
    const before = await sample(node, impl, proxy.pid);
    const cpuBefore = cpuSeconds(proxy.pid) ?? 0;
    const watch = await sightings(node, impl.mode, c.variant);
    const writes: { ip: string; sentAt: Promise<number> }[] = [];
    const total = c.rate * c.seconds;
    const start = epochMs();
    for (let i = 0; i < total; i++) {
      await sleep(Math.max(0, start + (i * 1000) / c.rate - epochMs()));
      const index = i % c.services;
      const addresses = changedAddresses(index, c.endpoints, c.changeBase + i);
      writes.push({ ip: addresses.at(-1) as string, sentAt: patchEndpoints(ctx, index, addresses).then((w) => w.sentAt) });
    }
    const sent = await Promise.all(writes.map(async (w) => ({ ip: w.ip, sentAt: await w.sentAt })));
    const settled = epochMs() + 10_000;
    while (epochMs() < settled && sent.some((w) => !watch.seen.has(w.ip))) await sleep(200);
    await watch.stop();
    const atEnd = await sample(node, impl, proxy.pid);
    const cpu = (cpuSeconds(proxy.pid) ?? 0) - cpuBefore;
    await sleep(AFTER_MS);
    const after = await sample(node, impl, proxy.pid);
    const latencies = sent.flatMap((w) => (watch.seen.has(w.ip) ? [Math.round(((watch.seen.get(w.ip) as number) - w.sentAt) * 10) / 10] : []));
    return { proxy: impl.proxy, mode: impl.mode, changes: sent.length, latency: { ...summarize(latencies), missed: sent.length - latencies.length }, before, atEnd, after, cpuSeconds: Math.round(cpu * 100) / 100 };
  } finally {
    await proxy?.close();
    await deleteNetns(node.name);
  }
}

export function churnLines(r: ChurnResult, c: ChurnOptions): string[] {
  const mem = (m: MemorySample) => `RSS ${m.rssMiB ?? '-'} MiB, heap ${m.heapMiB ?? '-'} MiB`;
  return [
    `${r.proxy} ${r.mode}: ${r.changes} changes at ${c.rate}/s over ${c.services} Services: programming latency p50 ${r.latency.p50} ms, p95 ${r.latency.p95} ms, max ${r.latency.max} ms${r.latency.missed > 0 ? `, ${r.latency.missed} never seen` : ''}; CPU ${r.cpuSeconds} s`,
    `  memory before ${mem(r.before)}; at the end ${mem(r.atEnd)}; ${AFTER_MS / 1000} s later ${mem(r.after)}`,
  ];
}
