import { describe, expect, it } from 'vitest';
import { parseClusterObjects } from '../../../../proxy/core/objects.ts';
import { buildProxyState } from '../../../../proxy/core/state.ts';
import { CONFIG } from '../fixtures.ts';

function svc(name: string, spec: Record<string, unknown>, labels: Record<string, string> = {}) {
  return { kind: 'Service', metadata: { name, namespace: 'ns1', labels }, spec: { clusterIP: '172.30.0.41', ports: [{ name: 'http', port: 80 }], ...spec } };
}

describe('the proxy state', () => {
  it('has no entries for headless, ExternalName and service-proxy-name labelled Services', () => {
    const state = buildProxyState(
      parseClusterObjects({
        kind: 'List',
        items: [
          svc('headless', { clusterIP: 'None' }),
          svc('name', { type: 'ExternalName', clusterIP: undefined, externalName: 'example.com' }),
          svc('other-proxy', {}, { 'service.kubernetes.io/service-proxy-name': 'someone-else' }),
        ],
      }),
      CONFIG,
    );
    expect(state.servicePorts).toEqual([]);
  });

  it('keeps same-port TCP and UDP apart and skips SCTP with a reason', () => {
    const ports = [
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      { name: 'dns-udp', port: 53, protocol: 'UDP' },
      { name: 'sig', port: 2905, protocol: 'SCTP' },
    ];
    const state = buildProxyState(parseClusterObjects({ kind: 'List', items: [svc('dns', { ports })] }), CONFIG);
    expect(state.servicePorts.map((p) => `${p.key}/${p.protocol}`)).toEqual(['ns1/dns:dns-tcp/tcp', 'ns1/dns:dns-udp/udp']);
    expect(state.skipped).toEqual([{ service: 'ns1/dns:sig', reason: 'SCTP is not supported by this kernel' }]);
  });

  it('keys unnamed ports by number and drops node ports and LB IPs of a plain ClusterIP Service', () => {
    const state = buildProxyState(parseClusterObjects({ kind: 'List', items: [svc('web', { ports: [{ port: 80, nodePort: 30001 }] })] }), CONFIG);
    expect(state.servicePorts[0]?.key).toBe('ns1/web:80');
    expect(state.servicePorts[0]?.nodePort).toBeUndefined();
  });

  it('gives a destination claimed twice to the first Service in key order and says why the other has no rules', () => {
    const state = buildProxyState(
      parseClusterObjects({ kind: 'List', items: [svc('web', { clusterIP: '172.30.0.42', externalIPs: ['192.0.2.7'] }), svc('api', { externalIPs: ['192.0.2.7'] })] }),
      CONFIG,
    );
    expect(state.servicePorts.map((p) => p.key)).toEqual(['ns1/api:http']);
    expect(state.skipped).toEqual([{ service: 'ns1/web:http', reason: 'destination "tcp 192.0.2.7:80" is already served by "ns1/api:http"' }]);
  });
});
