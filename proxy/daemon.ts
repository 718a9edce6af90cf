import type { Logger } from '../lib/log.ts';
import { loadKubeConfig } from '../lib/kube/config.ts';
import { ChangeTracker } from './change-tracker.ts';
import type { DaemonFlags } from './flags.ts';
import { healthCheckTargets, HealthCheckServers } from './health-check-node-port.ts';
import { healthResponse, isHealthy } from './healthz.ts';
import { listenHttp, NOT_FOUND, type HttpListener } from '../lib/http-listener.ts';
import { startInformers } from './informers.ts';
import { IptablesProxier, resolveNodePortAddresses } from './iptables-proxier.ts';
import { ProxyMetrics } from './metrics.ts';
import { NftablesProxier } from './nftables-proxier.ts';
import { SyncLoop } from './sync-loop.ts';

// `weft-proxy` as a daemon: informers feed the change tracker, the sync loop programs iptables or nftables,
// healthz/metrics/healthCheckNodePort listeners report. Stopping leaves the rules in place: the node
// keeps forwarding while the proxy restarts, and the next one replaces them atomically.

const BACKOFF = { baseBackoffMs: 1_000, maxBackoffMs: 30_000 };

export interface Daemon {
  /** Settles when the first full sync succeeded. */
  readonly firstSync: Promise<void>;
  stop(): Promise<void>;
}

export async function startDaemon(flags: DaemonFlags, log: Logger): Promise<Daemon> {
  const kubeConfig = loadKubeConfig({ kubeconfig: flags.kubeconfig });
  const tracker = new ChangeTracker(flags.hostname);
  const metrics = new ProxyMetrics();
  const proxier = flags.proxyMode === 'nftables' ? new NftablesProxier({ log }) : new IptablesProxier({ log });
  // kube-proxy's health timeout: twice the sync period.
  const healthTimeoutMs = 2 * flags.syncPeriodMs;
  let resolveFirst: () => void = () => {};
  const firstSync = new Promise<void>((resolve) => (resolveFirst = resolve));
  const healthChecks = new HealthCheckServers({ host: '0.0.0.0', log, proxyHealthy: () => isHealthy(loop.health, Date.now(), healthTimeoutMs) });
  let synced = false;

  const run = async (kind: 'full' | 'partial') => {
    const started = performance.now();
    const changes = tracker.takeChanges();
    const objects = tracker.objects();
    const config = {
      hostname: flags.hostname,
      clusterCidr: flags.clusterCidr,
      masqueradeMark: flags.masqueradeMark,
      nodePortAddresses: resolveNodePortAddresses(flags.nodePortAddresses, objects, flags.hostname),
    };
    try {
      const outcome = await proxier.sync(kind, objects, { config, changes });
      const seconds = (performance.now() - started) / 1000;
      metrics.observeSync(kind, seconds);
      if (outcome.totalRules) Object.assign(metrics.rules, outcome.totalRules);
      Object.assign(metrics.rulesLastSync, outcome.writtenRules);
      metrics.lastSyncTimestamp = Date.now() / 1000;
      metrics.conntrackDeletions += outcome.conntrackDeletions;
      const appliedAt = Date.now();
      for (const t of changes.triggerTimes) metrics.programming.observe(Math.max(0, appliedAt - t) / 1000);
      healthChecks.update(healthCheckTargets(objects.services, outcome.state));
      for (const s of outcome.state.skipped) log.debug('service port skipped', { service: s.service, reason: s.reason });
      log.info('synced', { kind, ms: Math.round(seconds * 1000), servicePorts: outcome.state.servicePorts.length, changedServices: changes.services.size, rules: outcome.writtenRules });
      resolveFirst();
    } catch (error) {
      metrics.restoreFailures += 1;
      throw error;
    }
  };

  const loop = new SyncLoop({ periods: { minSyncPeriodMs: flags.minSyncPeriodMs, syncPeriodMs: flags.syncPeriodMs, ...BACKOFF }, log, run });
  const informers = startInformers(kubeConfig, {
    hostname: flags.hostname,
    log,
    onEvent: (event) => {
      try {
        if (tracker.apply(event) && synced) loop.notify();
      } catch (error) {
        // The previous value stays: one unreadable object must not stop the node's other Services.
        log.warn('ignoring an object the proxy cannot read', { kind: event.kind, error });
      }
    },
  });

  const listeners: HttpListener[] = [];
  const closeAll = async () => {
    await informers.stop();
    await loop.stop();
    await healthChecks.close();
    await Promise.all(listeners.splice(0).map((l) => l.close()));
  };
  try {
    if (flags.healthz) {
      listeners.push(await listenHttp(flags.healthz.host, flags.healthz.port, (req) => healthResponse(req.path, loop.health, { now: Date.now(), timeoutMs: healthTimeoutMs }) ?? NOT_FOUND));
    }
    if (flags.metrics) {
      listeners.push(
        await listenHttp(flags.metrics.host, flags.metrics.port, (req) =>
          req.path === '/metrics' ? { status: 200, contentType: 'text/plain; version=0.0.4; charset=utf-8', body: metrics.render() } : (healthResponse(req.path, loop.health, { now: Date.now(), timeoutMs: healthTimeoutMs }) ?? NOT_FOUND),
        ),
      );
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  log.info('started', { node: flags.hostname, healthz: flags.healthz, metrics: flags.metrics, syncPeriodMs: flags.syncPeriodMs, minSyncPeriodMs: flags.minSyncPeriodMs });
  // The first full sync waits for every kind to be listed: syncing a partial view would remove the
  // rules of Services not seen yet from a node that was serving them.
  void informers.synced.then(() => {
    synced = true;
    tracker.takeChanges();
    log.info('informers synced');
    loop.start();
  });
  return { firstSync, stop: closeAll };
}
