import { describe, expect, it } from 'vitest';
import { formatIpv4Cidr, parseIpv4Cidr } from '../../../lib/ip.ts';
import { decodeLease, encodeLeaseValue, parseSubnetKeyName, subnetKeyName } from '../../../weftd/subnet/lease.ts';

const subnet = parseIpv4Cidr('10.244.1.0/24')!;

describe('lease encoding', () => {
  it('names the key as flannel does: 10.244.1.0-24', () => {
    expect(subnetKeyName(subnet)).toBe('10.244.1.0-24');
    expect(formatIpv4Cidr(parseSubnetKeyName('10.244.1.0-24')!)).toBe('10.244.1.0/24');
  });

  it('rejects key names that are not a subnet', () => {
    expect(parseSubnetKeyName('10.244.1.5-24')).toBeUndefined();
    expect(parseSubnetKeyName('config')).toBeUndefined();
  });

  it('writes the value in flannel\'s JSON shape and reads it back', () => {
    const lease = { subnet, publicIp: '172.30.0.2', vni: 1, vtepMac: '0e:aa:bb:cc:dd:ee' };
    const value = encodeLeaseValue(lease);
    expect(JSON.parse(value)).toEqual({ PublicIP: '172.30.0.2', BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: '0e:aa:bb:cc:dd:ee' } });
    expect(decodeLease(subnet, value)).toEqual(lease);
  });

  it('reads a lease written by flanneld (upper-case MAC, no VNI)', () => {
    const lease = decodeLease(subnet, '{"PublicIP":"172.30.0.9","BackendType":"vxlan","BackendData":{"VtepMAC":"AA:BB:CC:DD:EE:01"}}');
    expect(lease).toMatchObject({ publicIp: '172.30.0.9', vni: 1, vtepMac: 'aa:bb:cc:dd:ee:01' });
  });

  it.each([
    ['corrupt JSON', '{'],
    ['another backend', '{"PublicIP":"172.30.0.9","BackendType":"host-gw"}'],
    ['a bad public IP', '{"PublicIP":"x","BackendType":"vxlan","BackendData":{"VtepMAC":"aa:bb:cc:dd:ee:01"}}'],
    ['a missing MAC', '{"PublicIP":"172.30.0.9","BackendType":"vxlan","BackendData":{}}'],
  ])('ignores a value with %s', (_, value) => {
    expect(decodeLease(subnet, value)).toBeUndefined();
  });
});
