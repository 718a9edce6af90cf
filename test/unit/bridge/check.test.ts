import { describe, expect, it } from 'vitest';
import { findMismatches, type Observed } from '../../../plugins/bridge/check.ts';
import type { Result } from '../../../plugins/cni/types.ts';

const attachment = { containerId: 'c1', ifname: 'eth0' };
const expected = { attachment, bridge: 'br0', hostVeth: 'weftaaaaaaaaaaa' };
const prev: Result = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'br0', mac: '02:00:00:00:00:01' }, { name: 'weftaaaaaaaaaaa', mac: '02:00:00:00:00:02' }, { name: 'eth0', mac: '02:00:00:00:00:03', sandbox: '/var/run/netns/p' }],
  ips: [{ address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 2 }, { address: 'fd00:0:0::5/64', interface: 2 }],
  routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }, { dst: '192.168.0.0/16' }],
};
const good: Observed = {
  pod: { ifname: 'eth0', address: '02:00:00:00:00:03', addr_info: [{ local: '10.1.0.5', prefixlen: 24 }, { local: 'fd00::5', prefixlen: 64 }] },
  routes: [{ dst: 'default', gateway: '10.1.0.1' }, { dst: '192.168.0.0/16', gateway: '10.1.0.1' }, { dst: '10.1.0.0/24' }],
  host: { ifname: 'weftaaaaaaaaaaa', master: 'br0' },
};

describe('findMismatches', () => {
  it('finds nothing when the kernel matches prevResult', () => {
    expect(findMismatches(prev, good, expected)).toEqual([]);
  });

  it('names a missing route', () => {
    expect(findMismatches(prev, { ...good, routes: good.routes.slice(1) }, expected)).toEqual(['route to "0.0.0.0/0" via "10.1.0.1" is missing']);
  });

  it('names a wrong MAC, a missing address and a detached host veth', () => {
    const observed: Observed = { ...good, pod: { ...good.pod!, address: '02:00:00:00:00:09', addr_info: [{ local: '10.1.0.5', prefixlen: 24 }] }, host: { ifname: 'weftaaaaaaaaaaa' } };
    expect(findMismatches(prev, observed, expected)).toEqual([
      'interface "eth0" has MAC "02:00:00:00:00:09", not "02:00:00:00:00:03"',
      'interface "eth0" lacks address "fd00:0:0::5/64"',
      'host veth "weftaaaaaaaaaaa" is attached to "nothing", not bridge "br0"',
    ]);
  });

  it('reports a missing pod interface alone', () => {
    expect(findMismatches(prev, { routes: [] }, expected)).toEqual(['interface "eth0" is missing from the pod\'s namespace']);
  });
});
