import { describe, expect, it } from 'vitest';
import { ProxyMetrics } from '../../../../proxy/core/metrics.ts';

const MEMORY = { rss: 100, heapUsed: 40, heapTotal: 60, external: 5 };

describe('ProxyMetrics.render', () => {
  it('prints cumulative histogram buckets, sum and count per sync kind, labelled with the IP family', () => {
    const m = new ProxyMetrics('nftables');
    m.observeSync('full', 0.05);
    m.observeSync('partial', 0.003);
    m.observeSync('partial', 0.02);
    const text = m.render(MEMORY);
    expect(text).toContain('# TYPE kubeproxy_sync_partial_proxy_rules_duration_seconds histogram');
    expect(text).toContain('kubeproxy_sync_partial_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="0.004"} 1\n');
    expect(text).toContain('kubeproxy_sync_partial_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="0.032"} 2\n');
    expect(text).toContain('kubeproxy_sync_partial_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="+Inf"} 2\n');
    expect(text).toContain('kubeproxy_sync_partial_proxy_rules_duration_seconds_count{ip_family="IPv4"} 2\n');
    expect(text).toContain('kubeproxy_sync_full_proxy_rules_duration_seconds_count{ip_family="IPv4"} 1\n');
    expect(text).toContain('kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family="IPv4"} 3\n');
  });

  it('names failures and rule counts as kube-proxy does in iptables mode', () => {
    const m = new ProxyMetrics('iptables');
    Object.assign(m.rules, { nat: 24, filter: 5 });
    m.syncFailures = 2;
    m.partialFailures = 1;
    const text = m.render(MEMORY);
    expect(text).toContain('kubeproxy_sync_proxy_rules_iptables_total{table="nat",ip_family="IPv4"} 24\n');
    expect(text).toContain('kubeproxy_sync_proxy_rules_iptables_total{table="filter",ip_family="IPv4"} 5\n');
    expect(text).toContain('kubeproxy_sync_proxy_rules_iptables_restore_failures_total{ip_family="IPv4"} 2\n');
    expect(text).toContain('kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total{ip_family="IPv4"} 1\n');
    expect(text).not.toContain('nftables');
  });

  it('names failures as kube-proxy does in nftables mode, without iptables rule counts', () => {
    const m = new ProxyMetrics('nftables');
    m.syncFailures = 3;
    const text = m.render(MEMORY);
    expect(text).toContain('kubeproxy_sync_proxy_rules_nftables_sync_failures_total{ip_family="IPv4"} 3\n');
    expect(text).toContain('kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total{ip_family="IPv4"} 0\n');
    expect(text).not.toContain('iptables');
  });

  it('uses kube-proxy\'s programming latency buckets and reports memory as RSS and V8 heap apart', () => {
    const m = new ProxyMetrics('iptables');
    m.programming.observe(0.4);
    const text = m.render(MEMORY);
    expect(text).toContain('kubeproxy_network_programming_duration_seconds_bucket{ip_family="IPv4",le="0.25"} 0\n');
    expect(text).toContain('kubeproxy_network_programming_duration_seconds_bucket{ip_family="IPv4",le="0.5"} 1\n');
    expect(text).toContain('kubeproxy_network_programming_duration_seconds_bucket{ip_family="IPv4",le="300"} 1\n');
    expect(text).toContain('process_resident_memory_bytes 100\n');
    expect(text).toContain('nodejs_heap_size_used_bytes 40\n');
    expect(text.endsWith('\n')).toBe(true);
  });
});
