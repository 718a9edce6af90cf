import { describe, expect, it } from 'vitest';
import { isIgnored, parseClusterObjects, parseEndpointSlice, parseService } from '../../../../proxy/core/objects.ts';

const meta = { name: 'web', namespace: 'ns1' };

describe('parsing Services', () => {
  it('reads ports, LB ingress, source ranges, policies and applies the affinity default of 10800 s', () => {
    const s = parseService({
      metadata: meta,
      spec: {
        type: 'LoadBalancer',
        clusterIP: '172.30.0.41',
        ports: [{ name: 'http', port: 80, nodePort: 30001 }],
        sessionAffinity: 'ClientIP',
        externalTrafficPolicy: 'Local',
        loadBalancerSourceRanges: ['10.1.0.0/16'],
      },
      status: { loadBalancer: { ingress: [{ ip: '192.168.5.5' }, { hostname: 'lb.example' }] } },
    });
    expect(s).toMatchObject({
      type: 'LoadBalancer',
      ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30001 }],
      loadBalancerIPs: ['192.168.5.5'],
      loadBalancerSourceRanges: ['10.1.0.0/16'],
      affinitySeconds: 10800,
      externalTrafficLocal: true,
      internalTrafficLocal: false,
    });
  });

  it('names the object and the field of a bad value', () => {
    expect(() => parseService({ metadata: meta, spec: { clusterIP: '172.30.0.41', ports: [{ port: 70000 }] } })).toThrow(
      'cannot read Service "ns1/web": field "spec.ports[0].port" must be a port 1-65535, got 70000',
    );
    expect(() => parseService({ metadata: meta, spec: { clusterIP: '172.30.0.41', externalIPs: ['fe80::1'] } })).toThrow('field "spec.externalIPs[0]" must be an IPv4 address');
    expect(() => parseService({ metadata: meta, spec: { loadBalancerSourceRanges: ['10.0.0.0/33'] } })).toThrow('field "spec.loadBalancerSourceRanges[0]"');
    expect(() => parseService({ metadata: {} })).toThrow('cannot read Service: field "metadata.name" must be a string');
  });

  it('keeps a headless Service as clusterIP None', () => {
    expect(parseService({ metadata: meta, spec: { clusterIP: 'None' } }).clusterIP).toBe('None');
  });
});

describe('parsing EndpointSlices', () => {
  it('treats unset conditions as the API does: ready, serving as ready, not terminating', () => {
    const slice = parseEndpointSlice({
      metadata: { ...meta, name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [{ addresses: ['10.180.0.1'] }, { addresses: ['10.180.0.2'], conditions: { ready: false, serving: true, terminating: true }, nodeName: 'node-1' }],
    });
    expect(slice.serviceName).toBe('web');
    expect(slice.endpoints).toEqual([
      { ip: '10.180.0.1', ready: true, serving: true, terminating: false },
      { ip: '10.180.0.2', ready: false, serving: true, terminating: true, nodeName: 'node-1' },
    ]);
  });

  it('names the endpoint field that is wrong', () => {
    expect(() => parseEndpointSlice({ metadata: meta, addressType: 'IPv4', endpoints: [{ addresses: ['x'] }] })).toThrow(
      'cannot read EndpointSlice "ns1/web": field "endpoints[0].addresses[0]" must be an IPv4 address, got "x"',
    );
    const good = { addresses: ['10.180.0.1'] };
    const cases: [unknown, string][] = [
      ['x', 'endpoints[1]" must be an object'],
      [{ addresses: '10.180.0.2' }, 'endpoints[1].addresses" must be a list'],
      [{ addresses: ['10.180.0.2', 7] }, 'endpoints[1].addresses[1]" must be a string'],
      [{ addresses: ['10.180.0.2'], conditions: [] }, 'endpoints[1].conditions" must be an object'],
      [{ addresses: ['10.180.0.2'], conditions: { serving: 'yes' } }, 'endpoints[1].conditions.serving" must be a boolean'],
      [{ addresses: ['10.180.0.2'], nodeName: 3 }, 'endpoints[1].nodeName" must be a string'],
    ];
    for (const [endpoint, error] of cases) expect(() => parseEndpointSlice({ metadata: meta, addressType: 'IPv4', endpoints: [good, endpoint] })).toThrow(`field "${error}`);
  });
});

describe('objects the proxy ignores', () => {
  it('are Services labelled for another proxy, and slices that are headless or not IPv4', () => {
    const labelled = (labels: Record<string, string>, extra: Record<string, unknown> = {}) => ({ metadata: { ...meta, labels }, addressType: 'IPv4', ...extra });
    expect(isIgnored('Service', labelled({ 'service.kubernetes.io/service-proxy-name': 'other' }))).toBe(true);
    expect(isIgnored('Service', labelled({ app: 'web' }))).toBe(false);
    expect(isIgnored('EndpointSlice', labelled({ 'service.kubernetes.io/headless': '' }))).toBe(true);
    expect(isIgnored('EndpointSlice', labelled({}, { addressType: 'IPv6' }))).toBe(true);
    expect(isIgnored('EndpointSlice', labelled({}))).toBe(false);
  });

  it('are left out of a List', () => {
    const objects = parseClusterObjects({ kind: 'List', items: [{ kind: 'EndpointSlice', metadata: meta, addressType: 'FQDN', endpoints: [{ addresses: ['example.com'] }] }] });
    expect(objects.endpointSlices).toEqual([]);
  });
});

describe('parsing a List', () => {
  it('sorts Services, EndpointSlices and Nodes and skips other kinds', () => {
    const objects = parseClusterObjects({
      kind: 'List',
      items: [
        { kind: 'Service', metadata: meta, spec: { clusterIP: '172.30.0.41' } },
        { kind: 'Pod', metadata: meta },
        { kind: 'Node', metadata: { name: 'node-1' }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.5' }, { type: 'Hostname', address: 'node-1' }] } },
      ],
    });
    expect(objects.services).toHaveLength(1);
    expect(objects.endpointSlices).toHaveLength(0);
    expect(objects.nodes).toEqual([{ name: 'node-1', addresses: ['10.0.0.5'] }]);
  });
});
