import { describe, expect, it } from 'vitest';
import { cidrContains, compareIps, formatIp, lastAddress, networkAddress, parseCidr, parseIp } from '../../../lib/ip.ts';

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
});
