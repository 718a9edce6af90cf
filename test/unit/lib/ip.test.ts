import { describe, expect, it } from 'vitest';
import {
  cidrContains,
  compareIps,
  formatIp,
  formatIpv4,
  formatIpv4Cidr,
  ipv4CidrContains,
  ipv4CidrSize,
  lastAddress,
  networkAddress,
  parseCidr,
  parseIp,
  parseIpv4,
  parseIpv4Cidr,
} from '../../../lib/ip.ts';

describe('IP helpers', () => {
  it.each([
    ['10.0.0.1', 4, 0x0a000001n],
    ['255.255.255.255', 4, 0xffffffffn],
    ['::', 6, 0n],
    ['::1', 6, 1n],
    ['fd00::2', 6, 0xfd00n << 112n | 2n],
    ['::ffff:10.0.0.1', 6, 0xffffn << 32n | 0x0a000001n],
  ])('parses %s', (text, family, value) => {
    expect(parseIp(text)).toEqual({ family, value });
  });

  it.each(['10.0.0', '10.0.0.256', '010.0.0.1', '1.2.3.4.5', ':::', '1::2::3', 'fd00:1:2:3:4:5:6:7:8', 'fd00::g', '10.0.0.1/24', '', 'fe80::1%eth0'])(
    'rejects %j',
    (text) => {
      expect(parseIp(text)).toBeUndefined();
    },
  );

  it.each([
    ['fd00:0:0:0:0:0:0:2', 'fd00::2'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['FD00:0::A', 'fd00::a'],
  ])('formats %s canonically as %s (the names of the reference plugin\'s files)', (text, canonical) => {
    expect(formatIp(parseIp(text)!)).toBe(canonical);
  });

  it('computes network, last address and containment of a CIDR', () => {
    const cidr = parseCidr('10.1.2.77/26')!;
    expect(formatIp(networkAddress(cidr))).toBe('10.1.2.64');
    expect(formatIp(lastAddress(cidr))).toBe('10.1.2.127');
    expect(cidrContains(cidr, parseIp('10.1.2.127')!)).toBe(true);
    expect(cidrContains(cidr, parseIp('10.1.2.128')!)).toBe(false);
    expect(cidrContains(cidr, parseIp('::1')!)).toBe(false);
    expect(formatIp(lastAddress(parseCidr('fd00::/120')!))).toBe('fd00::ff');
  });

  it('rejects prefixes longer than the family allows', () => {
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('fd00::/129')).toBeUndefined();
    expect(parseCidr('10.0.0.0')).toBeUndefined();
  });

  it('orders IPv4 before IPv6 and by value within a family', () => {
    expect(compareIps(parseIp('10.0.0.2')!, parseIp('10.0.0.10')!)).toBeLessThan(0);
    expect(compareIps(parseIp('::1')!, parseIp('10.0.0.1')!)).toBeGreaterThan(0);
  });

  it('with strict, rejects a CIDR whose host bits are set', () => {
    expect(parseCidr('10.1.2.77/26', { strict: true })).toBeUndefined();
    expect(parseCidr('fd00::1/64', { strict: true })).toBeUndefined();
    expect(formatIp(parseCidr('10.1.2.64/26', { strict: true })!.ip)).toBe('10.1.2.64');
  });
});

describe('IPv4 as numbers (the overlay\'s subnet search)', () => {
  it('parses and formats an address as an unsigned 32-bit number', () => {
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(parseIpv4('10.244.1.0')).toBe(0x0af40100);
    expect(formatIpv4(0xc0a80001)).toBe('192.168.0.1');
    expect(formatIpv4(0xffffffff)).toBe('255.255.255.255');
    expect(formatIpv4(0)).toBe('0.0.0.0');
  });

  it('formats and contains exactly as the family-generic functions, high bit and edge prefixes included', () => {
    for (let i = 0; i < 2000; i++) {
      const value = Math.floor(Math.random() * 2 ** 32);
      const prefix = i % 33;
      const text = formatIp({ family: 4, value: BigInt(value) });
      expect(formatIpv4(value)).toBe(text);
      const cidr = parseIpv4Cidr(`${text}/${prefix}`)!;
      expect(formatIpv4Cidr(cidr)).toBe(`${formatIp(networkAddress(parseCidr(`${text}/${prefix}`)!))}/${prefix}`);
      const other = Math.floor(Math.random() * 2 ** 32);
      expect(ipv4CidrContains(cidr, other)).toBe(cidrContains(parseCidr(`${text}/${prefix}`)!, { family: 4, value: BigInt(other) }));
      expect(ipv4CidrContains(cidr, value)).toBe(true);
    }
    expect(ipv4CidrContains(parseIpv4Cidr('128.0.0.0/1')!, 0xffffffff)).toBe(true);
    expect(ipv4CidrContains(parseIpv4Cidr('10.0.0.7/32')!, parseIpv4('10.0.0.7')!)).toBe(true);
    expect(ipv4CidrContains(parseIpv4Cidr('10.0.0.7/32')!, parseIpv4('10.0.0.6')!)).toBe(false);
  });

  it.each(['fd00::1', '10.0.0.256', '010.0.0.1', '1.2.3.04', '00.1.2.3', '10.0.0.1/24', '', '1..2.3', '.1.2.3', '1.2.3.', '1.2.3.4.', ' 1.2.3.4', '+1.2.3.4', '1.2.3.1000'])(
    'rejects %j as an IPv4 address',
    (text) => {
      expect(parseIpv4(text)).toBeUndefined();
    },
  );

  it('parses a CIDR to its network, clearing host bits unless strict', () => {
    expect(parseIpv4Cidr('10.244.3.1/24')).toEqual({ network: parseIpv4('10.244.3.0'), prefix: 24 });
    expect(parseIpv4Cidr('10.244.3.1/24', { strict: true })).toBeUndefined();
    expect(formatIpv4Cidr(parseIpv4Cidr('10.244.0.0/16', { strict: true })!)).toBe('10.244.0.0/16');
    expect(formatIpv4Cidr(parseIpv4Cidr('0.0.0.0/0')!)).toBe('0.0.0.0/0');
  });

  it.each(['10.0.0.0/33', 'fd00::/64', '10.0.0.0', '10.0.0.0/', '10.0.0.0/a'])('rejects %j as an IPv4 CIDR', (text) => {
    expect(parseIpv4Cidr(text)).toBeUndefined();
  });

  it('tests containment and counts a block\'s addresses', () => {
    const network = parseIpv4Cidr('10.244.0.0/16')!;
    expect(ipv4CidrContains(network, parseIpv4('10.244.255.255')!)).toBe(true);
    expect(ipv4CidrContains(network, parseIpv4('10.245.0.0')!)).toBe(false);
    expect(ipv4CidrContains(parseIpv4Cidr('0.0.0.0/0')!, 0xffffffff)).toBe(true);
    expect(ipv4CidrSize(24)).toBe(256);
    expect(ipv4CidrSize(0)).toBe(2 ** 32);
  });
});
