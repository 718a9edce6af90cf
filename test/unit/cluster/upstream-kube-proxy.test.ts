import { describe, expect, it } from 'vitest';
import { renderKubeProxyConfig } from '../../support/upstream-kube-proxy.ts';

describe('upstream kube-proxy configuration', () => {
  it('serves one node in iptables mode and writes no conntrack sysctl', () => {
    const config = JSON.parse(renderKubeProxyConfig({ nodeName: 'node-a', kubeconfig: '/k' }));
    expect(config).toMatchObject({ kind: 'KubeProxyConfiguration', mode: 'iptables', hostnameOverride: 'node-a', clientConnection: { kubeconfig: '/k' } });
    expect(config.conntrack).toEqual({ maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' });
    expect(config.healthzBindAddress).toBe('127.0.0.1:10256');
  });

  it('lets a caller switch mode and override fields', () => {
    const config = JSON.parse(renderKubeProxyConfig({ nodeName: 'n', kubeconfig: '/k', mode: 'nftables', config: { minSyncPeriod: '0s' } }));
    expect(config.mode).toBe('nftables');
    expect(config.minSyncPeriod).toBe('0s');
  });
});
