import { describe, expect, it } from 'vitest';
import { mayHairpin, selectEndpoints } from '../../../../proxy/core/endpoints.ts';
import type { EndpointSlice, SliceEndpoint } from '../../../../proxy/core/objects.ts';

const PORT = { name: 'http', protocol: 'TCP', port: 80 } as const;

function slice(endpoints: SliceEndpoint[], extra: Partial<EndpointSlice> = {}): EndpointSlice {
  return { namespace: 'ns1', name: 'web-1', serviceName: 'web', ports: [{ name: 'http', protocol: 'TCP', port: 8080 }], endpoints, ...extra };
}
const ep = (ip: string, state: 'ready' | 'terminating' | 'gone', nodeName = 'node-2'): SliceEndpoint => ({
  ip,
  ready: state === 'ready',
  serving: state !== 'gone',
  terminating: state !== 'ready',
  nodeName,
});

describe('endpoint selection', () => {
  it('uses ready endpoints, sorted by address, and ignores serving+terminating ones while any is ready', () => {
    const choice = selectEndpoints(PORT, [slice([ep('10.180.0.10', 'ready'), ep('10.180.0.9', 'ready'), ep('10.180.0.1', 'terminating')])], 'node-1');
    expect(choice.cluster).toEqual([
      { ip: '10.180.0.9', port: 8080, nodeName: 'node-2' },
      { ip: '10.180.0.10', port: 8080, nodeName: 'node-2' },
    ]);
  });

  it('falls back to serving+terminating endpoints when none is ready, never to non-serving ones', () => {
    const choice = selectEndpoints(PORT, [slice([ep('10.180.0.1', 'terminating'), ep('10.180.0.2', 'gone')])], 'node-1');
    expect(choice.cluster.map((e) => e.ip)).toEqual(['10.180.0.1']);
  });

  it('makes the same choice among this node\'s endpoints for the Local policies', () => {
    const choice = selectEndpoints(PORT, [slice([ep('10.180.0.1', 'ready'), ep('10.180.0.2', 'terminating', 'node-1')])], 'node-1');
    expect(choice.cluster.map((e) => e.ip)).toEqual(['10.180.0.1']);
    expect(choice.local).toEqual([{ ip: '10.180.0.2', port: 8080, nodeName: 'node-1' }]);
  });

  it('matches the slice port by name and protocol, and counts an endpoint in two slices once', () => {
    const udp = slice([ep('10.180.0.1', 'ready')], { ports: [{ name: 'http', protocol: 'UDP', port: 53 }] });
    const twice = [slice([ep('10.180.0.1', 'ready')]), slice([ep('10.180.0.1', 'ready')], { name: 'web-2' })];
    expect(selectEndpoints(PORT, [udp], 'node-1').cluster).toEqual([]);
    expect(selectEndpoints(PORT, twice, 'node-1').cluster).toHaveLength(1);
  });

  it('counts an endpoint as a hairpin candidate when it runs on this node or its node is not said', () => {
    expect(mayHairpin({ ip: '10.180.0.1', port: 80, nodeName: 'node-1' }, 'node-1')).toBe(true);
    expect(mayHairpin({ ip: '10.180.0.1', port: 80 }, 'node-1')).toBe(true);
    expect(mayHairpin({ ip: '10.180.0.1', port: 80, nodeName: 'node-2' }, 'node-1')).toBe(false);
  });
});
