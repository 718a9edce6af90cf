// The proxy's Prometheus metrics, named as kube-proxy's so its dashboards and alerts work unchanged.
// Pure: observations in, text exposition format (version 0.0.4) out.

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

/** 1 ms doubling to ~16 s, as kube-proxy's sync duration histograms. */
export const SYNC_BUCKETS: readonly number[] = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);
/** Network programming latency spans the API server, the controller and us: 250 ms to 5 min. */
export const PROGRAMMING_BUCKETS: readonly number[] = [0.25, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 30, 60, 120, 300];

export type SyncKind = 'full' | 'partial';
export type RuleTable = 'nat' | 'filter';

function formatNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : value > 0 ? '+Inf' : '-Inf';
}

function histogramText(name: string, help: string, h: Histogram): string[] {
  return [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} histogram`,
    ...h.buckets.map((upper, i) => `${name}_bucket{le="${formatNumber(upper)}"} ${h.counts[i]}`),
    `${name}_bucket{le="+Inf"} ${h.count}`,
    `${name}_sum ${formatNumber(h.sum)}`,
    `${name}_count ${h.count}`,
  ];
}

function gaugeText(name: string, type: 'gauge' | 'counter', help: string, samples: readonly [string, number][]): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([labels, v]) => `${name}${labels} ${formatNumber(v)}`)];
}

export class ProxyMetrics {
  readonly syncAll = new Histogram(SYNC_BUCKETS);
  readonly syncFull = new Histogram(SYNC_BUCKETS);
  readonly syncPartial = new Histogram(SYNC_BUCKETS);
  readonly programming = new Histogram(PROGRAMMING_BUCKETS);
  /** Rules of ours in the kernel after the last sync, per table. */
  readonly rules: Record<RuleTable, number> = { nat: 0, filter: 0 };
  /** Rules written by the last sync, per table. */
  readonly rulesLastSync: Record<RuleTable, number> = { nat: 0, filter: 0 };
  restoreFailures = 0;
  conntrackDeletions = 0;
  /** Seconds since the epoch of the last successful sync; 0 before it. */
  lastSyncTimestamp = 0;

  observeSync(kind: SyncKind, seconds: number): void {
    this.syncAll.observe(seconds);
    (kind === 'full' ? this.syncFull : this.syncPartial).observe(seconds);
  }

  render(): string {
    const byTable = (values: Record<RuleTable, number>): [string, number][] => (['filter', 'nat'] as const).map((t) => [`{table="${t}"}`, values[t]]);
    return [
      ...histogramText('kubeproxy_sync_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds', this.syncAll),
      ...histogramText('kubeproxy_sync_full_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds for full resyncs', this.syncFull),
      ...histogramText('kubeproxy_sync_partial_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds for partial resyncs', this.syncPartial),
      ...histogramText('kubeproxy_network_programming_duration_seconds', 'In Cluster Network Programming Latency in seconds', this.programming),
      ...gaugeText('kubeproxy_sync_proxy_rules_iptables_total', 'gauge', 'Total number of iptables rules owned by weft-proxy', byTable(this.rules)),
      ...gaugeText('kubeproxy_sync_proxy_rules_iptables_last', 'gauge', 'Number of iptables rules written by the last sync', byTable(this.rulesLastSync)),
      ...gaugeText('kubeproxy_sync_proxy_rules_iptables_restore_failures_total', 'counter', 'Cumulative proxy iptables restore failures', [['', this.restoreFailures]]),
      ...gaugeText('kubeproxy_sync_proxy_rules_last_timestamp_seconds', 'gauge', 'The last time proxy rules were successfully synced', [['', this.lastSyncTimestamp]]),
      ...gaugeText('weft_proxy_conntrack_udp_deletions_total', 'counter', 'conntrack -D runs for UDP endpoints that stopped serving', [['', this.conntrackDeletions]]),
    ].join('\n') + '\n';
  }
}
