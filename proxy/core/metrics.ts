import type { ProxyMode } from './backend.ts';

// The proxy's Prometheus metrics, named and labelled as kube-proxy's for the same mode, so its
// dashboards and alerts work unchanged, plus the process's memory under the names Prometheus client
// libraries use. Pure: observations in, text exposition format (version 0.0.4) out.

export class Histogram {
  readonly buckets: readonly number[];
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(buckets: readonly number[]) {
    this.buckets = buckets;
    this.counts = buckets.map(() => 0);
  }
  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    this.buckets.forEach((upper, i) => {
      if (value <= upper) this.counts[i] = (this.counts[i] as number) + 1;
    });
  }
}

const range = (from: number, step: number, count: number) => Array.from({ length: count }, (_, i) => from + step * i);

/** 1 ms doubling to ~16 s, as kube-proxy's sync duration histograms. */
export const SYNC_BUCKETS: readonly number[] = range(0, 1, 15).map((i) => 0.001 * 2 ** i);
/** kube-proxy's network programming buckets: 0.25 s, 0.5 s, 1-59 s, 60-115 s, 2-5 min. */
export const PROGRAMMING_BUCKETS: readonly number[] = [...range(0.25, 0.25, 2), ...range(1, 1, 59), ...range(60, 5, 12), ...range(120, 30, 7)];

export type SyncKind = 'full' | 'partial';
export type RuleTable = 'nat' | 'filter';

/** What the process uses, sampled when the metrics are read. */
export interface MemorySample {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
}

const FAMILY = 'ip_family="IPv4"';

function formatNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : value > 0 ? '+Inf' : '-Inf';
}

function histogramText(name: string, help: string, h: Histogram): string[] {
  return [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} histogram`,
    ...h.buckets.map((upper, i) => `${name}_bucket{${FAMILY},le="${formatNumber(upper)}"} ${h.counts[i]}`),
    `${name}_bucket{${FAMILY},le="+Inf"} ${h.count}`,
    `${name}_sum{${FAMILY}} ${formatNumber(h.sum)}`,
    `${name}_count{${FAMILY}} ${h.count}`,
  ];
}

function valueText(name: string, type: 'gauge' | 'counter', help: string, samples: readonly [string, number][]): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([labels, v]) => `${name}${labels ? `{${labels}}` : ''} ${formatNumber(v)}`)];
}

export class ProxyMetrics {
  readonly mode: ProxyMode;
  readonly syncAll = new Histogram(SYNC_BUCKETS);
  readonly syncFull = new Histogram(SYNC_BUCKETS);
  readonly syncPartial = new Histogram(SYNC_BUCKETS);
  readonly programming = new Histogram(PROGRAMMING_BUCKETS);
  /** iptables mode: rules of ours in the kernel after the last full sync, per table. */
  readonly rules: Record<RuleTable, number> = { nat: 0, filter: 0 };
  /** iptables mode: rules written by the last sync, per table. */
  readonly rulesLastSync: Record<RuleTable, number> = { nat: 0, filter: 0 };
  /** Failed syncs (iptables: failed restores; nftables: failed transactions). */
  syncFailures = 0;
  /** iptables mode: failed restores of partial syncs. */
  partialFailures = 0;
  /** nftables mode: failures removing what another mode left. */
  cleanupFailures = 0;
  conntrackDeletions = 0;
  endpointChanges = 0;
  serviceChanges = 0;
  endpointChangesPending = 0;
  serviceChangesPending = 0;
  /** Seconds since the epoch of the last successful sync; 0 before it. */
  lastSyncTimestamp = 0;
  /** Seconds since the epoch a sync was last asked for. */
  lastQueuedTimestamp = 0;

  constructor(mode: ProxyMode) {
    this.mode = mode;
  }

  observeSync(kind: SyncKind, seconds: number): void {
    this.syncAll.observe(seconds);
    (kind === 'full' ? this.syncFull : this.syncPartial).observe(seconds);
  }

  render(memory: MemorySample): string {
    const byTable = (values: Record<RuleTable, number>): [string, number][] => (['filter', 'nat'] as const).map((t) => [`table="${t}",${FAMILY}`, values[t]]);
    const k = (name: string) => `kubeproxy_${name}`;
    const modeSpecific =
      this.mode === 'iptables'
        ? [
            ...valueText(k('sync_proxy_rules_iptables_restore_failures_total'), 'counter', 'Cumulative proxy iptables restore failures', [[FAMILY, this.syncFailures]]),
            ...valueText(k('sync_proxy_rules_iptables_partial_restore_failures_total'), 'counter', 'Cumulative proxy iptables partial restore failures', [[FAMILY, this.partialFailures]]),
            ...valueText(k('sync_proxy_rules_iptables_total'), 'gauge', 'Total number of iptables rules owned by weft-proxy', byTable(this.rules)),
            ...valueText(k('sync_proxy_rules_iptables_last'), 'gauge', 'Number of iptables rules written by weft-proxy in last sync', byTable(this.rulesLastSync)),
          ]
        : [
            ...valueText(k('sync_proxy_rules_nftables_sync_failures_total'), 'counter', 'Cumulative proxy nftables sync failures', [[FAMILY, this.syncFailures]]),
            ...valueText(k('sync_proxy_rules_nftables_cleanup_failures_total'), 'counter', 'Cumulative proxy nftables cleanup failures', [[FAMILY, this.cleanupFailures]]),
          ];
    return (
      [
        ...histogramText(k('sync_proxy_rules_duration_seconds'), 'SyncProxyRules latency in seconds', this.syncAll),
        ...histogramText(k('sync_full_proxy_rules_duration_seconds'), 'SyncProxyRules latency in seconds for full resyncs', this.syncFull),
        ...histogramText(k('sync_partial_proxy_rules_duration_seconds'), 'SyncProxyRules latency in seconds for partial resyncs', this.syncPartial),
        ...histogramText(k('network_programming_duration_seconds'), 'In Cluster Network Programming Latency in seconds', this.programming),
        ...valueText(k('sync_proxy_rules_last_timestamp_seconds'), 'gauge', 'The last time proxy rules were successfully synced', [[FAMILY, this.lastSyncTimestamp]]),
        ...valueText(k('sync_proxy_rules_last_queued_timestamp_seconds'), 'gauge', 'The last time a sync of proxy rules was queued', [[FAMILY, this.lastQueuedTimestamp]]),
        ...valueText(k('sync_proxy_rules_endpoint_changes_total'), 'counter', 'Cumulative proxy rules Endpoint changes', [['', this.endpointChanges]]),
        ...valueText(k('sync_proxy_rules_endpoint_changes_pending'), 'gauge', 'Pending proxy rules Endpoint changes', [['', this.endpointChangesPending]]),
        ...valueText(k('sync_proxy_rules_service_changes_total'), 'counter', 'Cumulative proxy rules Service changes', [['', this.serviceChanges]]),
        ...valueText(k('sync_proxy_rules_service_changes_pending'), 'gauge', 'Pending proxy rules Service changes', [['', this.serviceChangesPending]]),
        ...valueText(k('conntrack_reconciler_deleted_entries_total'), 'counter', 'Cumulative conntrack flows deleted by conntrack reconciler', [[FAMILY, this.conntrackDeletions]]),
        ...modeSpecific,
        ...valueText('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', [['', memory.rss]]),
        ...valueText('nodejs_heap_size_used_bytes', 'gauge', 'Process heap size used from Node.js in bytes.', [['', memory.heapUsed]]),
        ...valueText('nodejs_heap_size_total_bytes', 'gauge', 'Process heap size from Node.js in bytes.', [['', memory.heapTotal]]),
        ...valueText('nodejs_external_memory_bytes', 'gauge', 'Node.js external memory size in bytes.', [['', memory.external]]),
      ].join('\n') + '\n'
    );
  }
}
