import { loadKubeConfig } from '../lib/kube/config.ts';
import { listenHttp, NOT_FOUND, type HttpListener } from '../lib/http-listener.ts';
import type { Logger } from '../lib/log.ts';
import { backendsFor } from './backends.ts';
import { ChangeTracker, type ChangeEvent } from './core/change-tracker.ts';
import { resolveNodePortAddresses, type ProxyConfig } from './core/config.ts';
import { conntrackKernel } from './core/conntrack.ts';
import { HealthCheckServers } from './core/health-check-node-port.ts';
import { healthResponse, isHealthy, type HealthRecord } from './core/healthz.ts';
import { ProxyMetrics } from './core/metrics.ts';
import { Proxier, type SyncOutcome } from './core/proxier.ts';
import { SyncLoop } from './core/sync-loop.ts';
import type { DaemonFlags } from './flags.ts';
import { startInformers, type Informers } from './informers.ts';

// `weft-proxy` as a daemon, in named steps: the backends for the chosen mode, the proxy core (change
// tracker, proxier, sync loop), the healthz and metrics listeners, then the API watches feeding the
// tracker; the first full sync waits until every kind was listed. Stopping leaves the rules in place:
// the node keeps forwarding while the proxy restarts, and the next one replaces them atomically.

const BACKOFF = { baseBackoffMs: 1_000, maxBackoffMs: 30_000 };

export interface Daemon {
  /** Settles when the first full sync succeeded. */
  readonly firstSync: Promise<void>;
  stop(): Promise<void>;
}

/** Wall-clock ms with sub-ms precision, comparable across processes (logs and benchmarks). */
function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The config a sync renders with: the flags, and this Node's addresses for `--nodeport-addresses primary`. */
function syncConfig(flags: DaemonFlags, tracker: ChangeTracker): ProxyConfig {
  return {
    hostname: flags.hostname,
    clusterCidr: flags.clusterCidr,
    masqueradeMark: flags.masqueradeMark,
    nodePortAddresses: resolveNodePortAddresses(flags.nodePortAddresses, tracker.node?.addresses ?? []),
  };
}

/**
 * A full sync builds the whole desired state and payload at once and drops them when it is done:
 * collecting that garbage then gives the pages back, where V8's idle-time reducer would take its time
 * (the single executable starts with --expose-gc; from the sources, without it, this does nothing).
 * It runs on the next turn of the event loop, once no frame of the sync holds its outcome any more.
 */
function collectGarbageSoon(): void {
  // V8's last-resort collection also hands back the pages it would keep pooled for later allocations.
  setImmediate(() => (globalThis as { gc?: (options: object) => void }).gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' }));
}

/** Metrics, health-check ports and the log line after a successful sync. */
function reportSync(outcome: SyncOutcome, context: { metrics: ProxyMetrics; healthChecks: HealthCheckServers; log: Logger; startedAt: number }): void {
  const { metrics, log } = context;
  const endedAt = epochMs();
  const seconds = (endedAt - context.startedAt) / 1000;
  metrics.observeSync(outcome.kind, seconds);
  metrics.lastSyncTimestamp = endedAt / 1000;
  metrics.conntrackDeletions += outcome.conntrackDeletions;
  metrics.endpointChangesPending = 0;
  metrics.serviceChangesPending = 0;
  const written = { nat: outcome.result.written.nat ?? 0, filter: outcome.result.written.filter ?? 0 };
  Object.assign(metrics.rulesLastSync, written);
  if (outcome.kind === 'full') Object.assign(metrics.rules, written);
  for (const t of outcome.changes.triggerTimes) metrics.programming.observe(Math.max(0, endedAt - t) / 1000);
  context.healthChecks.update(outcome.healthChecks);
  if (outcome.kind === 'full') collectGarbageSoon();
  for (const s of outcome.skipped) log.debug('service port skipped', { service: s.service, reason: s.reason });
  if (outcome.cleanedUp.length > 0) log.info('removed the rules of another proxy mode', { modes: outcome.cleanedUp });
  const since = outcome.changes.since;
  log.info('synced', {
    kind: outcome.kind,
    ms: Math.round(seconds * 10000) / 10,
    services: outcome.services,
    servicePorts: outcome.servicePorts,
    written: outcome.result.written,
    ...(outcome.phasesMs ? { phasesMs: outcome.phasesMs } : {}),
    // When the first change of this sync arrived, and how long it waited for the sync to start.
    ...(since !== undefined ? { firstChangeAt: Math.round(since * 10) / 10, waitedMs: Math.round((context.startedAt - since) * 10) / 10 } : {}),
  });
}

/** The /healthz and /metrics listeners the flags ask for; none stays open when one cannot listen. */
async function serveHealthAndMetrics(flags: DaemonFlags, health: () => HealthRecord, metrics: ProxyMetrics): Promise<HttpListener[]> {
  const timeoutMs = 2 * flags.syncPeriodMs;
  const answer = (path: string) => healthResponse(path, health(), { now: Date.now(), timeoutMs }) ?? NOT_FOUND;
  const opening: Promise<HttpListener>[] = [];
  if (flags.healthz) opening.push(listenHttp(flags.healthz.host, flags.healthz.port, (req) => answer(req.path)));
  if (flags.metrics) {
    opening.push(
      listenHttp(flags.metrics.host, flags.metrics.port, (req) =>
        req.path === '/metrics' ? { status: 200, contentType: 'text/plain; version=0.0.4; charset=utf-8', body: metrics.render(process.memoryUsage()) } : answer(req.path),
      ),
    );
  }
  const opened = await Promise.allSettled(opening);
  const listeners = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const failed = opened.find((o) => o.status === 'rejected');
  if (failed) {
    await Promise.all(listeners.map((l) => l.close()));
    throw failed.reason;
  }
  return listeners;
}

function followApi(flags: DaemonFlags, context: { tracker: ChangeTracker; loop: SyncLoop; metrics: ProxyMetrics; log: Logger; synced: () => boolean }): Informers {
  const { tracker, loop, metrics, log } = context;
  const changed = () => {
    metrics.lastQueuedTimestamp = Date.now() / 1000;
    if (context.synced()) loop.notify();
  };
  return startInformers(loadKubeConfig({ kubeconfig: flags.kubeconfig }), {
    hostname: flags.hostname,
    log,
    onEvent: (event: ChangeEvent) => {
      try {
        if (!tracker.apply(event)) return;
        if (event.kind === 'EndpointSlice') {
          metrics.endpointChanges += 1;
          metrics.endpointChangesPending += 1;
        } else if (event.kind === 'Service') {
          metrics.serviceChanges += 1;
          metrics.serviceChangesPending += 1;
        }
        changed();
      } catch (error) {
        // The previous record stays: one unreadable object must not stop the node's other Services.
        log.warn('ignoring an object the proxy cannot read', { kind: event.kind, error });
      }
    },
    onListed: (kind, keys) => {
      if (tracker.retain(kind, keys)) changed();
    },
  });
}

export async function startDaemon(flags: DaemonFlags, log: Logger): Promise<Daemon> {
  const { backend, others } = backendsFor(flags.proxyMode);
  const tracker = new ChangeTracker(flags.hostname, epochMs);
  const metrics = new ProxyMetrics(flags.proxyMode);
  const proxier = new Proxier({ backend, otherModes: others, tracker, conntrack: conntrackKernel(), log });
  let synced = false;
  let markFirstSync: () => void = () => {};
  const firstSync = new Promise<void>((resolve) => (markFirstSync = resolve));
  const healthTimeoutMs = 2 * flags.syncPeriodMs;
  const healthChecks = new HealthCheckServers({ host: '0.0.0.0', log, proxyHealthy: () => isHealthy(loop.health, Date.now(), healthTimeoutMs) });

  const run = async (kind: 'full' | 'partial') => {
    const startedAt = epochMs();
    try {
      reportSync(await proxier.sync(kind, syncConfig(flags, tracker)), { metrics, healthChecks, log, startedAt });
      markFirstSync();
    } catch (error) {
      metrics.syncFailures += 1;
      if (kind === 'partial') metrics.partialFailures += 1;
      throw error;
    }
  };
  const loop = new SyncLoop({ periods: { minSyncPeriodMs: flags.minSyncPeriodMs, syncPeriodMs: flags.syncPeriodMs, ...BACKOFF }, log, run });

  const listeners = await serveHealthAndMetrics(flags, () => loop.health, metrics);
  const informers = followApi(flags, { tracker, loop, metrics, log, synced: () => synced });
  log.info('started', { node: flags.hostname, mode: flags.proxyMode, healthz: flags.healthz, metrics: flags.metrics, syncPeriodMs: flags.syncPeriodMs, minSyncPeriodMs: flags.minSyncPeriodMs });
  // The first full sync waits for every kind to be listed: syncing a partial view would remove the
  // rules of Services not seen yet from a node that was serving them.
  void informers.synced.then(() => {
    synced = true;
    log.info('informers synced', { services: tracker.serviceCount });
    loop.start();
  });
  const stop = async () => {
    await informers.stop();
    await loop.stop();
    for (const b of [backend, ...others]) b.close();
    await healthChecks.close();
    await Promise.all(listeners.map((l) => l.close()));
  };
  return { firstSync, stop };
}
