import { describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../../lib/kube/config.ts';
import { kubeConfigOrigin } from '../../../lib/kube/origin.ts';

describe('kubeConfigOrigin', () => {
  const inCluster = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
  it('prefers an explicit kubeconfig file', () => {
    expect(kubeConfigOrigin({ kubeconfig: '/etc/k.conf', env: inCluster }, () => true)).toBe('file');
  });
  it('uses the service account inside a pod', () => {
    expect(kubeConfigOrigin({ env: inCluster }, () => true)).toBe('in-cluster');
  });
  it('falls back to the default outside a pod', () => {
    expect(kubeConfigOrigin({ env: inCluster }, () => false)).toBe('default');
    expect(kubeConfigOrigin({ env: {} }, () => true)).toBe('default');
  });
});

describe('loadKubeConfig', () => {
  it('names the file it cannot load', () => {
    expect(() => loadKubeConfig({ kubeconfig: '/nonexistent/weft.kubeconfig' })).toThrow('cannot load kubeconfig "/nonexistent/weft.kubeconfig"');
  });
});
