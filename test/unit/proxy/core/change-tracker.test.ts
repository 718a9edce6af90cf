import { describe, expect, it } from 'vitest';
import { ChangeTracker, TRIGGER_TIME_ANNOTATION } from '../../../../proxy/core/change-tracker.ts';

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
const ips = (t: ChangeTracker, key: string) => t.records(key).slices.flatMap((s) => s.endpoints.map((e) => e.ip));

describe('ChangeTracker', () => {
  it('reports a new Service as changed, from nothing to its record, and hands each change to one sync only', () => {
    const t = new ChangeTracker('node-1');
    expect(t.apply({ kind: 'Service', type: 'upsert', object: service('web') })).toBe(true);
    const changes = t.takeChanges();
    expect([...changes.services.keys()]).toEqual(['ns1/web']);
    expect(changes.services.get('ns1/web')?.before).toEqual({ slices: [] });
    expect(changes.services.get('ns1/web')?.after.service?.clusterIP).toBe('172.30.0.41');
    expect(t.hasChanges()).toBe(false);
    expect(t.takeChanges().services.size).toBe(0);
    expect([...t.allServices()].map(([key]) => key)).toEqual(['ns1/web']);
  });

  it('drops an update that changes nothing the proxy reads (resourceVersion, annotations)', () => {
    const t = new ChangeTracker('node-1');
    t.apply({ kind: 'Service', type: 'upsert', object: service('web') });
    t.takeChanges();
    expect(t.apply({ kind: 'Service', type: 'upsert', object: service('web', { resourceVersion: '2', annotations: { a: 'b' } }) })).toBe(false);
    expect(t.hasChanges()).toBe(false);
  });

  it('keeps the records the last sync saw as "before", however many updates follow', () => {
    const t = new ChangeTracker('node-1');
    t.apply({ kind: 'EndpointSlice', type: 'upsert', object: slice('s1', 'web', ['10.180.0.1']) });
    t.takeChanges();
    t.apply({ kind: 'EndpointSlice', type: 'upsert', object: slice('s1', 'web', ['10.180.0.2']) });
    t.apply({ kind: 'EndpointSlice', type: 'upsert', object: slice('s1', 'web', ['10.180.0.3']) });
    const change = t.takeChanges().services.get('ns1/web');
    expect(change?.before.slices.flatMap((s) => s.endpoints.map((e) => e.ip))).toEqual(['10.180.0.1']);
    expect(change?.after.slices.flatMap((s) => s.endpoints.map((e) => e.ip))).toEqual(['10.180.0.3']);
  });

  it('marks the owning Service of a changed EndpointSlice, and both owners when the label moves', () => {
    const t = new ChangeTracker('node-1');
    t.apply({ kind: 'EndpointSlice', type: 'upsert', object: slice('s1', 'web', ['10.180.0.1']) });
    expect([...t.takeChanges().services.keys()]).toEqual(['ns1/web']);
    t.apply({ kind: 'EndpointSlice', type: 'upsert', object: slice('s1', 'api', ['10.180.0.1']) });
    expect([...t.takeChanges().services.keys()].sort()).toEqual(['ns1/api', 'ns1/web']);
    expect(ips(t, 'ns1/web')).toEqual([]);
    expect(ips(t, 'ns1/api')).toEqual(['10.180.0.1']);
  });

  it('forgets a deleted object and reports its Service', () => {
    const t = new ChangeTracker('node-1');
    t.apply({ kind: 'EndpointSlice', type: 'upsert', object: slice('s1', 'web', ['10.180.0.1']) });
    t.takeChanges();
    expect(t.apply({ kind: 'EndpointSlice', type: 'delete', object: slice('s1', 'web', ['10.180.0.1']) })).toBe(true);
    expect([...t.takeChanges().services.keys()]).toEqual(['ns1/web']);
    expect(t.records('ns1/web').slices).toEqual([]);
  });

  it('treats an object that gains an ignored label as deleted (headless slices, another proxy\'s Services)', () => {
    const t = new ChangeTracker('node-1');
    t.apply({ kind: 'Service', type: 'upsert', object: service('web') });
    t.apply({ kind: 'EndpointSlice', type: 'upsert', object: slice('s1', 'web', ['10.180.0.1']) });
    t.takeChanges();
    t.apply({ kind: 'Service', type: 'upsert', object: service('web', { labels: { 'service.kubernetes.io/service-proxy-name': 'other' } }) });
    t.apply({ kind: 'EndpointSlice', type: 'upsert', object: slice('s1', 'web', ['10.180.0.1'], { labels: { 'kubernetes.io/service-name': 'web', 'service.kubernetes.io/headless': '' } }) });
    expect(t.records('ns1/web')).toEqual({ slices: [] });
  });

  it('drops what a re-list no longer holds', () => {
    const t = new ChangeTracker('node-1');
    t.apply({ kind: 'Service', type: 'upsert', object: service('web') });
    t.apply({ kind: 'Service', type: 'upsert', object: service('api') });
    t.takeChanges();
    expect(t.retain('Service', new Set(['ns1/api']))).toBe(true);
    expect([...t.takeChanges().services.keys()]).toEqual(['ns1/web']);
    expect([...t.allServices()].map(([key]) => key)).toEqual(['ns1/api']);
    expect(t.retain('Service', new Set(['ns1/api']))).toBe(false);
  });

  it('takes back the changes of a failed sync, keeping the records that sync started from', () => {
    const t = new ChangeTracker('node-1');
    t.apply({ kind: 'EndpointSlice', type: 'upsert', object: slice('s1', 'web', ['10.180.0.1']) });
    t.takeChanges();
    t.apply({ kind: 'EndpointSlice', type: 'upsert', object: slice('s1', 'web', ['10.180.0.2']) });
    const failed = t.takeChanges();
    t.apply({ kind: 'EndpointSlice', type: 'upsert', object: slice('s1', 'web', ['10.180.0.3']) });
    t.giveBack(failed);
    const change = t.takeChanges().services.get('ns1/web');
    expect(change?.before.slices.flatMap((s) => s.endpoints.map((e) => e.ip))).toEqual(['10.180.0.1']);
    expect(change?.after.slices.flatMap((s) => s.endpoints.map((e) => e.ip))).toEqual(['10.180.0.3']);
  });

  it('collects the trigger time of EndpointSlice changes and when the first change arrived', () => {
    let now = 5;
    const t = new ChangeTracker('node-1', () => now);
    t.apply({ kind: 'EndpointSlice', type: 'upsert', object: slice('s1', 'web', ['10.180.0.1'], { annotations: { [TRIGGER_TIME_ANNOTATION]: '2026-01-01T00:00:00Z' } }) });
    now = 9;
    t.apply({ kind: 'Service', type: 'upsert', object: service('web') });
    const changes = t.takeChanges();
    expect(changes.triggerTimes).toEqual([Date.parse('2026-01-01T00:00:00Z')]);
    expect(changes.since).toBe(5);
  });

  it('tracks only its own Node, and reports a change of its addresses', () => {
    const t = new ChangeTracker('node-1');
    const node = (name: string, ip: string) => ({ metadata: { name }, status: { addresses: [{ type: 'InternalIP', address: ip }] } });
    expect(t.apply({ kind: 'Node', type: 'upsert', object: node('node-2', '10.0.0.6') })).toBe(false);
    expect(t.apply({ kind: 'Node', type: 'upsert', object: node('node-1', '10.0.0.5') })).toBe(true);
    expect(t.takeChanges().node).toBe(true);
    expect(t.apply({ kind: 'Node', type: 'upsert', object: node('node-1', '10.0.0.5') })).toBe(false);
    expect(t.node).toEqual({ name: 'node-1', addresses: ['10.0.0.5'] });
  });

  it('keeps the previous value when an update cannot be read', () => {
    const t = new ChangeTracker('node-1');
    t.apply({ kind: 'Service', type: 'upsert', object: service('web') });
    const bad = { ...service('web'), spec: { clusterIP: 'not-an-ip' } };
    expect(() => t.apply({ kind: 'Service', type: 'upsert', object: bad })).toThrow(/spec\.clusterIP/);
    expect(t.records('ns1/web').service?.clusterIP).toBe('172.30.0.41');
  });
});
