import { describe, expect, it } from 'vitest';
import { updateProxyState } from '../../../proxy/nftables/partial-state.ts';
import { parseClusterObjects } from '../../../proxy/objects.ts';
import { buildProxyState } from '../../../proxy/state.ts';
import { CONFIG } from './fixtures.ts';

function objects(webEndpoint: string, withApi = true) {
  const svc = (name: string, ip: string, ports: unknown[] = [{ name: 'http', port: 80 }]) => ({ kind: 'Service', metadata: { name, namespace: 'ns1' }, spec: { clusterIP: ip, ports } });
  const slice = (name: string, ip: string) => ({
    kind: 'EndpointSlice',
    metadata: { name: `${name}-1`, namespace: 'ns1', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [{ addresses: [ip], conditions: { ready: true } }],
  });
  const api = withApi ? [svc('api', '172.30.0.42', [{ name: 'http', port: 80 }, { name: 'sig', port: 9, protocol: 'SCTP' }]), slice('api', '10.180.0.9')] : [];
  return parseClusterObjects({ kind: 'List', items: [svc('web', '172.30.0.41'), slice('web', webEndpoint), ...api] });
}

const byKey = (s: { servicePorts: readonly { key: string }[] }) => [...s.servicePorts].sort((a, b) => a.key.localeCompare(b.key));

describe('updateProxyState', () => {
  it('equals a full rebuild (up to order) after an endpoint change of the changed Service', () => {
    const previous = buildProxyState(objects('10.180.0.1'), CONFIG);
    const next = objects('10.180.0.2');
    const updated = updateProxyState(previous, next, { config: CONFIG, changed: new Set(['ns1/web']) });
    expect(byKey(updated)).toEqual(byKey(buildProxyState(next, CONFIG)));
    expect(updated.skipped).toEqual([{ service: 'ns1/api:sig', reason: 'SCTP is not supported by this kernel' }]);
  });

  it('drops a deleted Service with its skipped ports, and leaves unchanged Services as they were', () => {
    const previous = buildProxyState(objects('10.180.0.1'), CONFIG);
    const updated = updateProxyState(previous, objects('10.180.0.2', false), { config: CONFIG, changed: new Set(['ns1/api']) });
    expect(updated.servicePorts.map((sp) => sp.key)).toEqual(['ns1/web:http']);
    expect(updated.servicePorts[0]?.clusterEndpoints).toEqual([{ ip: '10.180.0.1', port: 8080 }]);
    expect(updated.skipped).toEqual([]);
  });
});
