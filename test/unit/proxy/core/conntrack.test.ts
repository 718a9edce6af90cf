import { describe, expect, it } from 'vitest';
import { staleUdpFlows } from '../../../../proxy/core/conntrack.ts';
import { EP1, EP2, servicePort } from '../fixtures.ts';

const udp = (overrides = {}) => servicePort({ key: 'ns1/dns:dns', service: 'ns1/dns', protocol: 'udp', port: 53, ...overrides });
const state = (...servicePorts: ReturnType<typeof udp>[]) => servicePorts;

describe('staleUdpFlows', () => {
  it('deletes flows to the Service whose reply source is an endpoint that stopped serving', () => {
    const before = state(udp({ clusterEndpoints: [EP1, EP2], localEndpoints: [] }));
    const after = state(udp({ clusterEndpoints: [EP2], localEndpoints: [] }));
    expect(staleUdpFlows(before, after)).toEqual([['-D', '-p', 'udp', '--orig-dst', '172.30.0.41', '--orig-port-dst', '53', '--reply-src', EP1.ip]]);
  });

  it('covers NodePorts and external IPs of a removed Service', () => {
    const before = state(udp({ clusterEndpoints: [EP1], localEndpoints: [], nodePort: 30053, externalIPs: ['192.0.2.9'] }));
    expect(staleUdpFlows(before, state())).toEqual([
      ['-D', '-p', 'udp', '--orig-dst', '172.30.0.41', '--orig-port-dst', '53', '--reply-src', EP1.ip],
      ['-D', '-p', 'udp', '--orig-dst', '192.0.2.9', '--orig-port-dst', '53', '--reply-src', EP1.ip],
      ['-D', '-p', 'udp', '--orig-port-dst', '30053', '--reply-src', EP1.ip],
    ]);
  });

  it('clears "no endpoint" flows when a UDP Service gets its first endpoint', () => {
    const before = state(udp({ clusterEndpoints: [], localEndpoints: [] }));
    expect(staleUdpFlows(before, state(udp({ clusterEndpoints: [EP1], localEndpoints: [] })))).toEqual([['-D', '-p', 'udp', '--orig-dst', '172.30.0.41', '--orig-port-dst', '53']]);
  });

  it('leaves TCP and unchanged UDP Services alone', () => {
    const tcp = servicePort();
    expect(staleUdpFlows(state(tcp, udp()), state(servicePort({ clusterEndpoints: [] }), udp()))).toEqual([]);
  });
});
