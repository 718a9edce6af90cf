import { describe, expect, it } from 'vitest';
import { formatIpv4Cidr, parseIpv4Cidr } from '../../../lib/ip.ts';
import { parseNetworkConfig } from '../../../weftd/subnet/network-config.ts';
import { chooseFreeSubnet } from '../../../weftd/subnet/subnet-choice.ts';

const config = parseNetworkConfig(JSON.stringify({ Network: '10.244.0.0/16', SubnetMin: '10.244.1.0', SubnetMax: '10.244.4.0' }));
const cidrs = (...texts: string[]) => texts.map((t) => parseIpv4Cidr(t)!);

describe('chooseFreeSubnet', () => {
  it('starts at a random position within SubnetMin..SubnetMax', () => {
    expect(formatIpv4Cidr(chooseFreeSubnet(config, [], () => 0)!)).toBe('10.244.1.0/24');
    expect(formatIpv4Cidr(chooseFreeSubnet(config, [], () => 0.99)!)).toBe('10.244.4.0/24');
  });

  it('skips taken subnets and wraps around the range', () => {
    const taken = cidrs('10.244.4.0/24', '10.244.1.0/24');
    expect(formatIpv4Cidr(chooseFreeSubnet(config, taken, () => 0.99)!)).toBe('10.244.2.0/24');
  });

  it('returns nothing when every subnet is taken', () => {
    expect(chooseFreeSubnet(config, cidrs('10.244.1.0/24', '10.244.2.0/24', '10.244.3.0/24', '10.244.4.0/24'))).toBeUndefined();
  });

  it('never hands out the first subnet by default (flannel leaves it unused)', () => {
    const small = parseNetworkConfig(JSON.stringify({ Network: '10.9.0.0/23' }));
    for (const r of [0, 0.5, 0.99]) expect(formatIpv4Cidr(chooseFreeSubnet(small, [], () => r)!)).toBe('10.9.1.0/24');
  });
});
