import { describe, expect, it } from 'vitest';
import { healthCheckResponse, healthCheckTarget } from '../../../../proxy/core/health-check-node-port.ts';
import { healthResponse, isHealthy } from '../../../../proxy/core/healthz.ts';
import { parseService } from '../../../../proxy/core/objects.ts';
import { EP1, EP2, servicePort } from '../fixtures.ts';

const T = Date.parse('2026-01-01T00:00:00Z');

describe('healthz', () => {
  it('is unhealthy before the first sync', () => {
    expect(healthResponse('/healthz', {}, { now: T, timeoutMs: 60_000 })?.status).toBe(503);
  });

  it('answers 200 with kube-proxy fields after a recent sync', () => {
    const r = healthResponse('/healthz', { lastSuccessAt: T - 1000 }, { now: T, timeoutMs: 60_000 });
    expect(r?.status).toBe(200);
    expect(JSON.parse(r?.body ?? '')).toEqual({ lastUpdated: new Date(T - 1000).toISOString(), currentTime: new Date(T).toISOString(), nodeEligible: true, healthy: true });
    expect(JSON.parse(healthResponse('/livez', { lastSuccessAt: T }, { now: T, timeoutMs: 1 })?.body ?? '')).not.toHaveProperty('nodeEligible');
  });

  it('turns 503 when a change waits longer than the timeout or the last sync is too old', () => {
    expect(isHealthy({ lastSuccessAt: T - 1000, pendingSince: T - 61_000 }, T, 60_000)).toBe(false);
    expect(isHealthy({ lastSuccessAt: T - 1000, pendingSince: T - 10_000 }, T, 60_000)).toBe(true);
    expect(isHealthy({ lastSuccessAt: T - 61_000 }, T, 60_000)).toBe(false);
  });

  it('answers only /healthz and /livez', () => {
    expect(healthResponse('/metrics', { lastSuccessAt: T }, { now: T, timeoutMs: 1 })).toBeUndefined();
  });
});

describe('healthCheckNodePort', () => {
  const lb = (healthCheckNodePort: number, policy = 'Local') =>
    parseService({ metadata: { name: 'web', namespace: 'ns1' }, spec: { type: 'LoadBalancer', clusterIP: '172.30.0.41', externalTrafficPolicy: policy, healthCheckNodePort, ports: [{ name: 'http', port: 80 }] } });

  it('serves the local endpoint count of an externalTrafficPolicy Local Service on its port', () => {
    const ports = [servicePort({ localEndpoints: [EP1, EP2] }), servicePort({ key: 'ns1/web:https', localEndpoints: [EP1] })];
    expect(healthCheckTarget(lb(30100), ports)).toEqual([30100, { namespace: 'ns1', name: 'web', localEndpoints: 2 }]);
  });

  it('serves nothing for a Cluster policy Service', () => {
    expect(healthCheckTarget(lb(30100, 'Cluster'), [servicePort()])).toBeUndefined();
    expect(healthCheckTarget(undefined, [])).toBeUndefined();
  });

  it('answers 200 with local endpoints and 503 without, as kube-proxy', () => {
    const ok = healthCheckResponse({ namespace: 'ns1', name: 'web', localEndpoints: 1 }, true);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ service: { namespace: 'ns1', name: 'web' }, localEndpoints: 1, serviceProxyHealthy: true });
    expect(healthCheckResponse({ namespace: 'ns1', name: 'web', localEndpoints: 0 }, true).status).toBe(503);
  });
});
