import { describe, expect, it } from 'vitest';
import { ProxyMetrics } from '../../../proxy/metrics.ts';

describe('ProxyMetrics.render', () => {
  it('prints cumulative histogram buckets, sum and count per sync kind', () => {
    const m = new ProxyMetrics();
    m.observeSync('full', 0.05);
    m.observeSync('partial', 0.003);
    m.observeSync('partial', 0.02);
    const text = m.render();
    expect(text).toContain('# TYPE kubeproxy_sync_partial_proxy_rules_duration_seconds histogram');
    expect(text).toContain('kubeproxy_sync_partial_proxy_rules_duration_seconds_bucket{le="0.004"} 1\n');
    expect(text).toContain('kubeproxy_sync_partial_proxy_rules_duration_seconds_bucket{le="0.032"} 2\n');
    expect(text).toContain('kubeproxy_sync_partial_proxy_rules_duration_seconds_bucket{le="+Inf"} 2\n');
    expect(text).toContain('kubeproxy_sync_partial_proxy_rules_duration_seconds_count 2\n');
    expect(text).toContain('kubeproxy_sync_full_proxy_rules_duration_seconds_count 1\n');
    expect(text).toContain('kubeproxy_sync_proxy_rules_duration_seconds_count 3\n');
  });

  it('prints rule counts per table, failures and programming latency', () => {
    const m = new ProxyMetrics();
    Object.assign(m.rules, { nat: 24, filter: 5 });
    m.restoreFailures = 2;
    m.programming.observe(0.4);
    const text = m.render();
    expect(text).toContain('kubeproxy_sync_proxy_rules_iptables_total{table="nat"} 24\n');
    expect(text).toContain('kubeproxy_sync_proxy_rules_iptables_total{table="filter"} 5\n');
    expect(text).toContain('kubeproxy_sync_proxy_rules_iptables_restore_failures_total 2\n');
    expect(text).toContain('kubeproxy_network_programming_duration_seconds_bucket{le="0.25"} 0\n');
    expect(text).toContain('kubeproxy_network_programming_duration_seconds_bucket{le="0.5"} 1\n');
    expect(text.endsWith('\n')).toBe(true);
  });
});
