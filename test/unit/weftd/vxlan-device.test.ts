import { describe, expect, it } from 'vitest';
import { parseIpv4Cidr } from '../../../lib/ip.ts';
import { planDevice, recreateReason, type DeviceSpec, type LinkState } from '../../../weftd/fabric/vxlan-device.ts';

const spec: DeviceSpec = { name: 'weft.1', vni: 1, port: 8472, local: '172.30.0.1', uplink: 'eth0', mac: '0e:00:00:00:00:01', mtu: 1450, subnet: parseIpv4Cidr('10.244.1.0/24')! };
const good: LinkState = { kind: 'vxlan', vni: 1, local: '172.30.0.1', port: 8472, learning: false, mac: '0e:00:00:00:00:01', mtu: 1450, up: true, addresses: ['10.244.1.0/32'] };

describe('planDevice', () => {
  it('creates the device with nolearning, its MAC and MTU, the subnet network address as /32, and brings it up', () => {
    expect(planDevice(spec, undefined)).toEqual([
      'link add weft.1 type vxlan id 1 local 172.30.0.1 dev eth0 dstport 8472 nolearning',
      'link set weft.1 address 0e:00:00:00:00:01 mtu 1450',
      'addr add 10.244.1.0/32 dev weft.1',
      'link set weft.1 up',
    ]);
  });

  it('leaves a correct device alone', () => {
    expect(planDevice(spec, good)).toEqual([]);
  });

  it('moves the address when the node got another subnet', () => {
    expect(planDevice(spec, { ...good, addresses: ['10.244.9.0/32'] })).toEqual(['addr del 10.244.9.0/32 dev weft.1', 'addr add 10.244.1.0/32 dev weft.1']);
  });

  it('corrects MTU and MAC in place', () => {
    expect(planDevice(spec, { ...good, mtu: 1500 })).toEqual(['link set weft.1 address 0e:00:00:00:00:01 mtu 1450']);
  });
});

describe('recreateReason', () => {
  it('keeps a device whose VXLAN parameters match', () => {
    expect(recreateReason(good, spec)).toBeUndefined();
  });

  it.each([
    ['another kind', { kind: 'bridge' }, /"bridge" device/],
    ['another VNI', { vni: 2 }, /VNI/],
    ['another local address', { local: '172.30.0.9' }, /local address/],
    ['another port', { port: 4789 }, /port/],
    ['learning on', { learning: true }, /learns/],
  ])('recreates a device with %s', (_, change, reason) => {
    expect(recreateReason({ ...good, ...change }, spec)).toMatch(reason);
  });
});
