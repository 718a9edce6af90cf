import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../../lib/log.ts';
import type { Backend, BackendResult, ServiceDiff } from '../../../../proxy/core/backend.ts';
import { ChangeTracker } from '../../../../proxy/core/change-tracker.ts';
import type { ProxyConfig } from '../../../../proxy/core/config.ts';
import { Proxier } from '../../../../proxy/core/proxier.ts';
import type { ServicePortState } from '../../../../proxy/core/state.ts';
import { CONFIG } from '../fixtures.ts';
import { FakeConntrack } from '../fake-kernels.ts';

// The core's choice between a full and a partial sync, against a backend that records its calls.

const log = createLogger({ component: 'test', level: 'error', file: '/dev/null' });
const RESULT: BackendResult = { written: {}, payload: '' };

class RecordingBackend implements Backend {
  readonly mode = 'nftables';
  readonly calls: ({ kind: 'full'; ports: readonly ServicePortState[] } | { kind: 'partial'; diffs: readonly ServiceDiff[] } | { kind: 'cleanup' })[] = [];
  refusePartial = false;
  failNext = false;
  kernelMs = 0;
  async fullSync(ports: readonly ServicePortState[], _config: ProxyConfig) {
    this.#maybeFail();
    this.calls.push({ kind: 'full', ports });
    return { ...RESULT, kernelMs: this.kernelMs };
  }
  async partialSync(diffs: readonly ServiceDiff[]) {
    this.#maybeFail();
    if (this.refusePartial) return undefined;
    this.calls.push({ kind: 'partial', diffs });
    return RESULT;
  }
  async cleanup() {
    this.calls.push({ kind: 'cleanup' });
    return true;
  }
  close() {}
  #maybeFail() {
    if (!this.failNext) return;
    this.failNext = false;
    throw new Error('cannot apply');
  }
}

const service = (name: string, ip: string, extra: Record<string, unknown> = {}) => ({ metadata: { name, namespace: 'ns1' }, spec: { clusterIP: ip, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }], ...extra } });
const slice = (service: string, ips: string[]) => ({
  metadata: { name: `${service}-1`, namespace: 'ns1', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }],
  endpoints: ips.map((ip) => ({ addresses: [ip] })),
});

function setup() {
  const tracker = new ChangeTracker('node-1');
  const backend = new RecordingBackend();
  const other = new RecordingBackend();
  const conntrack = new FakeConntrack();
  const proxier = new Proxier({ backend, otherModes: [other], tracker, conntrack, log });
  const upsert = (kind: 'Service' | 'EndpointSlice', object: Record<string, unknown>) => tracker.apply({ kind, type: 'upsert', object });
  upsert('Service', service('dns', '172.30.0.10'));
  upsert('EndpointSlice', slice('dns', ['10.180.0.1']));
  upsert('Service', service('web', '172.30.0.11'));
  return { tracker, backend, other, conntrack, proxier, upsert };
}

describe('the proxier', () => {
  it('starts with a full sync of every Service, then removes the other mode\'s rules once', async () => {
    const { backend, other, proxier } = setup();
    let fullSyncsBeforeCleanup = -1;
    other.cleanup = async () => {
      fullSyncsBeforeCleanup = backend.calls.length;
      other.calls.push({ kind: 'cleanup' });
      return true;
    };
    const outcome = await proxier.sync('partial', CONFIG);
    expect(outcome.kind).toBe('full');
    expect(other.calls).toEqual([{ kind: 'cleanup' }]);
    expect(fullSyncsBeforeCleanup).toBe(1);
    expect(outcome.cleanedUp).toEqual(['nftables']);
    expect(backend.calls.map((c) => c.kind)).toEqual(['full']);
    expect(outcome.servicePorts).toBe(2);
    await proxier.sync('full', CONFIG);
    expect(other.calls).toHaveLength(1);
  });

  it('says where a full sync\'s time went, the kernel\'s part as the backend measured it', async () => {
    const { backend, proxier, upsert } = setup();
    backend.kernelMs = 7;
    const full = await proxier.sync('full', CONFIG);
    expect(Object.keys(full.phasesMs ?? {})).toEqual(['state', 'render', 'kernel', 'cleanup']);
    expect(full.phasesMs?.kernel).toBe(7);
    for (const ms of Object.values(full.phasesMs ?? {})) expect(ms).toBeGreaterThanOrEqual(0);
    upsert('EndpointSlice', slice('dns', ['10.180.0.2']));
    const partial = await proxier.sync('partial', CONFIG);
    expect(partial.kind).toBe('partial');
    expect(partial.phasesMs).toBeUndefined();
  });

  it('hands a partial sync only the changed Service, with its ports before and after', async () => {
    const { backend, proxier, upsert } = setup();
    await proxier.sync('full', CONFIG);
    upsert('EndpointSlice', slice('dns', ['10.180.0.2']));
    const outcome = await proxier.sync('partial', CONFIG);
    expect(outcome.kind).toBe('partial');
    const call = backend.calls.at(-1);
    expect(call?.kind).toBe('partial');
    const diffs = call?.kind === 'partial' ? call.diffs : [];
    expect(diffs.map((d) => [d.service, d.before[0]?.clusterEndpoints, d.after[0]?.clusterEndpoints])).toEqual([['ns1/dns', [{ ip: '10.180.0.1', port: 5353 }], [{ ip: '10.180.0.2', port: 5353 }]]]);
  });

  it('deletes the conntrack entries of a UDP endpoint that stopped serving', async () => {
    const { conntrack, proxier, upsert } = setup();
    await proxier.sync('full', CONFIG);
    upsert('EndpointSlice', slice('dns', ['10.180.0.2']));
    const outcome = await proxier.sync('partial', CONFIG);
    expect(outcome.conntrackDeletions).toBe(1);
    expect(conntrack.deleted).toEqual([['-D', '-p', 'udp', '--orig-dst', '172.30.0.10', '--orig-port-dst', '53', '--reply-src', '10.180.0.1']]);
  });

  it('runs a full sync instead when the Node changed, the config changed, or the backend cannot express the change', async () => {
    const { backend, proxier, tracker, upsert } = setup();
    await proxier.sync('full', CONFIG);
    tracker.apply({ kind: 'Node', type: 'upsert', object: { metadata: { name: 'node-1' }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.5' }] } } });
    expect((await proxier.sync('partial', CONFIG)).kind).toBe('full');
    upsert('EndpointSlice', slice('dns', ['10.180.0.3']));
    expect((await proxier.sync('partial', { ...CONFIG, nodePortAddresses: ['10.0.0.5/32'] })).kind).toBe('full');
    upsert('EndpointSlice', slice('dns', ['10.180.0.4']));
    backend.refusePartial = true;
    expect((await proxier.sync('partial', { ...CONFIG, nodePortAddresses: ['10.0.0.5/32'] })).kind).toBe('full');
  });

  it('leaves the other mode\'s rules serving while its own first full sync fails', async () => {
    const { backend, other, proxier } = setup();
    backend.failNext = true;
    await expect(proxier.sync('full', CONFIG)).rejects.toThrow('cannot apply');
    expect(other.calls).toEqual([]);
    await proxier.sync('full', CONFIG);
    expect(other.calls).toEqual([{ kind: 'cleanup' }]);
  });

  it('after a failure keeps the changes and makes the next sync a full one that includes them', async () => {
    const { backend, proxier, upsert } = setup();
    await proxier.sync('full', CONFIG);
    upsert('EndpointSlice', slice('dns', ['10.180.0.2']));
    backend.failNext = true;
    await expect(proxier.sync('partial', CONFIG)).rejects.toThrow('cannot apply');
    const outcome = await proxier.sync('partial', CONFIG);
    expect(outcome.kind).toBe('full');
    expect([...outcome.changes.services.keys()]).toEqual(['ns1/dns']);
    expect(outcome.conntrackDeletions).toBe(1);
  });

  it('runs a full sync when a port was waiting for a destination the change frees', async () => {
    const { proxier, upsert, tracker } = setup();
    upsert('Service', service('other', '172.30.0.12', { externalIPs: ['192.0.2.9'], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }));
    upsert('Service', service('late', '172.30.0.13', { externalIPs: ['192.0.2.9'], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }));
    const first = await proxier.sync('full', CONFIG);
    expect(first.skipped.map((s) => s.service)).toEqual(['ns1/late:dns']);
    tracker.apply({ kind: 'Service', type: 'delete', object: service('other', '172.30.0.12') });
    const next = await proxier.sync('partial', CONFIG);
    expect(next.kind).toBe('full');
    expect(next.skipped).toEqual([]);
  });

  it('reports what each healthCheckNodePort answers for after the sync', async () => {
    const { proxier, upsert } = setup();
    upsert('Service', service('lb', '172.30.0.20', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 30111 }));
    const outcome = await proxier.sync('full', CONFIG);
    expect(outcome.healthChecks).toEqual(new Map([[30111, { namespace: 'ns1', name: 'lb', localEndpoints: 0 }]]));
  });
});
