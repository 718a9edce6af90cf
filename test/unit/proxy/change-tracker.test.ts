import { describe, expect, it } from 'vitest';
import { ChangeTracker, TRIGGER_TIME_ANNOTATION } from '../../../proxy/change-tracker.ts';

const service = (name: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name, namespace: 'ns1', resourceVersion: '1', ...extra },
  spec: { clusterIP: '172.30.0.41', ports: [{ name: 'http', port: 80 }] },
});
const slice = (name: string, serviceName: string, ips: string[], meta: Record<string, unknown> = {}) => ({
  metadata: { name, namespace: 'ns1', labels: { 'kubernetes.io/service-name': serviceName }, ...meta },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080 }],
  endpoints: ips.map((ip) => ({ addresses: [ip] })),
});

describe('ChangeTracker', () => {
  it('reports a new Service as changed and hands each change to one sync only', () => {
    const t = new ChangeTracker('node-1');
    expect(t.apply({ kind: 'Service', type: 'upsert', object: service('web') })).toBe(true);
    expect([...t.takeChanges().services]).toEqual(['ns1/web']);
    expect(t.hasChanges()).toBe(false);
    expect(t.takeChanges().services.size).toBe(0);
    expect(t.objects().services.map((s) => s.name)).toEqual(['web']);
  });

  it('drops an update that changes nothing the proxy reads (resourceVersion, annotations)', () => {
    const t = new ChangeTracker('node-1');
    t.apply({ kind: 'Service', type: 'upsert', object: service('web') });
    t.takeChanges();
    expect(t.apply({ kind: 'Service', type: 'upsert', object: service('web', { resourceVersion: '2', annotations: { a: 'b' } }) })).toBe(false);
    expect(t.hasChanges()).toBe(false);
  });

  it('marks the owning Service of a changed EndpointSlice, and both owners when the label moves', () => {
    const t = new ChangeTracker('node-1');
    t.apply({ kind: 'EndpointSlice', type: 'upsert', object: slice('s1', 'web', ['10.180.0.1']) });
    expect([...t.takeChanges().services]).toEqual(['ns1/web']);
    t.apply({ kind: 'EndpointSlice', type: 'upsert', object: slice('s1', 'api', ['10.180.0.1']) });
    expect([...t.takeChanges().services].sort()).toEqual(['ns1/api', 'ns1/web']);
  });

  it('forgets a deleted object and reports its Service', () => {
    const t = new ChangeTracker('node-1');
    t.apply({ kind: 'EndpointSlice', type: 'upsert', object: slice('s1', 'web', ['10.180.0.1']) });
    t.takeChanges();
    expect(t.apply({ kind: 'EndpointSlice', type: 'delete', object: slice('s1', 'web', ['10.180.0.1']) })).toBe(true);
    expect([...t.takeChanges().services]).toEqual(['ns1/web']);
    expect(t.objects().endpointSlices).toEqual([]);
  });

  it('collects the trigger time of EndpointSlice changes for the programming latency', () => {
    const t = new ChangeTracker('node-1');
    t.apply({ kind: 'EndpointSlice', type: 'upsert', object: slice('s1', 'web', ['10.180.0.1'], { annotations: { [TRIGGER_TIME_ANNOTATION]: '2026-01-01T00:00:00Z' } }) });
    expect(t.takeChanges().triggerTimes).toEqual([Date.parse('2026-01-01T00:00:00Z')]);
  });

  it('tracks only its own Node, and reports a change of its addresses', () => {
    const t = new ChangeTracker('node-1');
    const node = (name: string, ip: string) => ({ metadata: { name }, status: { addresses: [{ type: 'InternalIP', address: ip }] } });
    expect(t.apply({ kind: 'Node', type: 'upsert', object: node('node-2', '10.0.0.6') })).toBe(false);
    expect(t.apply({ kind: 'Node', type: 'upsert', object: node('node-1', '10.0.0.5') })).toBe(true);
    expect(t.takeChanges().node).toBe(true);
    expect(t.apply({ kind: 'Node', type: 'upsert', object: node('node-1', '10.0.0.5') })).toBe(false);
    expect(t.objects().nodes).toEqual([{ name: 'node-1', addresses: ['10.0.0.5'] }]);
  });

  it('keeps the previous value when an update cannot be read', () => {
    const t = new ChangeTracker('node-1');
    t.apply({ kind: 'Service', type: 'upsert', object: service('web') });
    const bad = { ...service('web'), spec: { clusterIP: 'not-an-ip' } };
    expect(() => t.apply({ kind: 'Service', type: 'upsert', object: bad })).toThrow(/spec\.clusterIP/);
    expect(t.objects().services[0]?.clusterIP).toBe('172.30.0.41');
  });
});
