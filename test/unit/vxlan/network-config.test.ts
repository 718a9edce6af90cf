import { describe, expect, it } from 'vitest';
import { formatIpv4Cidr, formatIpv4 } from '../../../lib/ip.ts';
import { NetworkConfigError, parseNetworkConfig } from '../../../plugins/vxlan/network-config.ts';

const parse = (config: unknown) => parseNetworkConfig(JSON.stringify(config));

describe('parseNetworkConfig', () => {
  it('applies flannel defaults: /24 subnets, the first subnet unused, VNI 1, port 8472', () => {
    const config = parse({ Network: '10.244.0.0/16', Backend: { Type: 'vxlan' } });
    expect(formatIpv4Cidr(config.network)).toBe('10.244.0.0/16');
    expect(config.subnetLen).toBe(24);
    expect(formatIpv4(config.subnetMin)).toBe('10.244.1.0');
    expect(formatIpv4(config.subnetMax)).toBe('10.244.255.0');
    expect(config.backend).toEqual({ type: 'vxlan', vni: 1, port: 8472, mtu: 0, directRouting: false });
  });

  it('reads every backend field and the subnet bounds', () => {
    const config = parse({ Network: '10.0.0.0/8', SubnetLen: 26, SubnetMin: '10.1.0.0', SubnetMax: '10.1.0.192', Backend: { Type: 'VXLAN', VNI: 42, Port: 4789, MTU: 1400, DirectRouting: true } });
    expect(config.subnetLen).toBe(26);
    expect(formatIpv4(config.subnetMin)).toBe('10.1.0.0');
    expect(formatIpv4(config.subnetMax)).toBe('10.1.0.192');
    expect(config.backend).toEqual({ type: 'vxlan', vni: 42, port: 4789, mtu: 1400, directRouting: true });
  });

  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['a missing Network', { Backend: { Type: 'vxlan' } }, /"Network"/],
    ['a Network with host bits', { Network: '10.244.0.1/16' }, /"Network"/],
    ['an IPv6 network', { Network: '10.244.0.0/16', IPv6Network: 'fd00::/48' }, /"IPv6Network"/],
    ['a SubnetLen not longer than the network', { Network: '10.244.0.0/16', SubnetLen: 16 }, /"SubnetLen"/],
    ['a SubnetLen above 30', { Network: '10.244.0.0/16', SubnetLen: 31 }, /"SubnetLen"/],
    ['a SubnetMin outside the network', { Network: '10.244.0.0/16', SubnetMin: '10.245.0.0' }, /"SubnetMin"/],
    ['a misaligned SubnetMax', { Network: '10.244.0.0/16', SubnetMax: '10.244.3.7' }, /"SubnetMax"/],
    ['SubnetMin above SubnetMax', { Network: '10.244.0.0/16', SubnetMin: '10.244.9.0', SubnetMax: '10.244.3.0' }, /"SubnetMin"/],
    ['another backend type', { Network: '10.244.0.0/16', Backend: { Type: 'host-gw' } }, /"Backend.Type"/],
    ['a VNI out of range', { Network: '10.244.0.0/16', Backend: { Type: 'vxlan', VNI: 16_777_216 } }, /"Backend.VNI"/],
    ['a port of 0', { Network: '10.244.0.0/16', Backend: { Type: 'vxlan', Port: 0 } }, /"Backend.Port"/],
    ['a tiny MTU', { Network: '10.244.0.0/16', Backend: { Type: 'vxlan', MTU: 100 } }, /"Backend.MTU"/],
    ['a non-boolean DirectRouting', { Network: '10.244.0.0/16', Backend: { Type: 'vxlan', DirectRouting: 'yes' } }, /"Backend.DirectRouting"/],
  ])('rejects %s, naming the field', (_, config, message) => {
    const text = typeof config === 'string' ? config : JSON.stringify(config);
    expect(() => parseNetworkConfig(text)).toThrow(NetworkConfigError);
    expect(() => parseNetworkConfig(text)).toThrow(message);
  });
});
