import { describe, expect, it } from 'vitest';
import { CniError, ErrorCode, toCniError } from '../../../plugins/cni/errors.ts';
import type { Request } from '../../../plugins/cni/request.ts';
import type { NetConf } from '../../../plugins/cni/types.ts';
import { formatIp } from '../../../lib/ip.ts';
import { parseHostLocalConfig } from '../../../plugins/host-local/config.ts';
import { request } from './fixtures.ts';


function conf(ipam: Record<string, unknown>, extra: Partial<NetConf> = {}): NetConf {
  return { cniVersion: '1.1.0', name: 'net1', type: 'weft-host-local', ipam: { type: 'weft-host-local', ...ipam }, ...extra };
}

function errorOf(run: () => unknown): CniError {
  try {
    run();
  } catch (error) {
    // The skeleton turns a field's error into code 7, as it does here.
    return toCniError(error, ErrorCode.IOFailure, 'read the config');
  }
  throw new Error('expected a CniError');
}

describe('host-local config', () => {
  it('applies the reference defaults: start and gateway at .1, end at broadcast-1, data dir /var/lib/cni/networks', () => {
    const config = parseHostLocalConfig(conf({ ranges: [[{ subnet: '10.1.0.0/24' }]] }), request());
    const range = config.rangeSets[0]![0]!;
    expect([range.rangeStart, range.rangeEnd, range.gateway].map(formatIp)).toEqual(['10.1.0.1', '10.1.0.254', '10.1.0.1']);
    expect(config.dataDir).toBe('/var/lib/cni/networks');
    expect(config.network).toBe('net1');
  });

  it('ends an IPv6 range at the subnet\'s last address', () => {
    const range = parseHostLocalConfig(conf({ ranges: [[{ subnet: 'fd00::/120' }]] }), request()).rangeSets[0]![0]!;
    expect([range.rangeStart, range.rangeEnd, range.gateway].map(formatIp)).toEqual(['fd00::1', 'fd00::ff', 'fd00::1']);
  });

  it('puts the legacy single range (subnet in ipam) first, before ipam.ranges', () => {
    const config = parseHostLocalConfig(
      conf({ subnet: '10.2.0.0/24', rangeStart: '10.2.0.10', rangeEnd: '10.2.0.20', gateway: '10.2.0.254', ranges: [[{ subnet: 'fd00::/64' }]] }),
      request(),
    );
    expect(config.rangeSets.map((set) => set.map((r) => formatIp(r.subnet.ip)))).toEqual([['10.2.0.0'], ['fd00::']]);
    const legacy = config.rangeSets[0]![0]!;
    expect([legacy.rangeStart, legacy.rangeEnd, legacy.gateway].map(formatIp)).toEqual(['10.2.0.10', '10.2.0.20', '10.2.0.254']);
  });

  it.each([
    [{}, '"ipam.ranges" is missing'],
    [{ ranges: 'x' }, '"ipam.ranges" must be a list, got "x"'],
    [{ ranges: [[]] }, '"ipam.ranges[0]" must be a non-empty list of ranges, got []'],
    [{ ranges: [['x']] }, '"ipam.ranges[0][0]" must be an object, got "x"'],
    [{ ranges: [[{}]] }, '"ipam.ranges[0][0].subnet" is missing'],
    [{ ranges: [[{ subnet: '10.1.0.0/24' }, { subnet: 'nope' }]] }, '"ipam.ranges[0][1].subnet" must be a CIDR such as "10.1.0.0/24", got "nope"'],
    [{ ranges: [[{ subnet: '10.1.0.5/24' }]] }, '"ipam.ranges[0][0].subnet" must be a network address ("10.1.0.0/24"), not one with host bits set, got "10.1.0.5/24"'],
    [{ ranges: [[{ subnet: '10.1.0.0/31' }]] }, '"ipam.ranges[0][0].subnet" must be a subnet of /30 or larger to allocate from, got "10.1.0.0/31"'],
    [{ ranges: [[{ subnet: '10.1.0.0/24', rangeStart: '10.1.1.1' }]] }, '"ipam.ranges[0][0].rangeStart" must be an address inside the subnet "10.1.0.0/24", got "10.1.1.1"'],
    [{ ranges: [[{ subnet: '10.1.0.0/24', rangeEnd: 'x' }]] }, '"ipam.ranges[0][0].rangeEnd" must be an IP address, got "x"'],
    [{ ranges: [[{ subnet: '10.1.0.0/24', gateway: '10.9.0.1' }]] }, '"ipam.ranges[0][0].gateway" must be an address inside the subnet "10.1.0.0/24", got "10.9.0.1"'],
    [{ ranges: [[{ subnet: '10.1.0.0/24', rangeStart: '10.1.0.50', rangeEnd: '10.1.0.10' }]] }, '"ipam.ranges[0][0].rangeEnd" must be an address after rangeStart "10.1.0.50", got "10.1.0.10"'],
    [{ ranges: [[{ subnet: '10.1.0.0/24', rangeStart: 5 }]] }, '"ipam.ranges[0][0].rangeStart" must be a string, got 5'],
    [{ ranges: [[{ subnet: '10.1.0.0/24' }, { subnet: 'fd00::/64' }]] }, '"ipam.ranges[0][1].subnet" must be an IPv4 subnet like the rest of its range set, got "fd00::/64"'],
    [{ ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: '10.1.0.0/25' }]] }, '"ipam.ranges[1][0]" overlaps "ipam.ranges[0][0]"'],
    [{ ranges: [[{ subnet: '10.1.0.0/24', rangeEnd: '10.1.0.100' }, { subnet: '10.1.0.0/24', rangeStart: '10.1.0.100' }]] }, '"ipam.ranges[0][1]" overlaps "ipam.ranges[0][0]"'],
    [{ subnet: '10.1.0.0/24', ranges: [[{ subnet: '10.1.0.0/16' }]] }, '"ipam.ranges[0][0]" overlaps "ipam.subnet"'],
    [{ subnet: '10.1.0.0/24', routes: [{ dst: 'x' }] }, '"ipam.routes[0].dst" must be a CIDR such as "10.1.0.0/24", got "x"'],
    [{ subnet: '10.1.0.0/24', routes: [{ dst: '0.0.0.0/0', gw: 'y' }] }, '"ipam.routes[0].gw" must be an IP address, got "y"'],
    [{ subnet: '10.1.0.0/24', routes: {} }, '"ipam.routes" must be a list, got {}'],
    [{ subnet: '10.1.0.0/24', dataDir: 'relative/dir' }, '"ipam.dataDir" must be an absolute path without "..", got "relative/dir"'],
    [{ subnet: '10.1.0.0/24', dataDir: '/var/lib/../../etc' }, '"ipam.dataDir" must be an absolute path without "..", got "/var/lib/../../etc"'],
    [{ subnet: '10.1.0.0/24', resolvConf: 'resolv.conf' }, '"ipam.resolvConf" must be an absolute path without "..", got "resolv.conf"'],
  ])('rejects %j with code 7 naming the field', (ipam, message) => {
    const error = errorOf(() => parseHostLocalConfig(conf(ipam), request()));
    expect(error.code).toBe(ErrorCode.InvalidConfig);
    expect(error.message).toContain(`invalid config: ${message}`);
  });

  it('rejects a config without an ipam section naming "ipam"', () => {
    const error = errorOf(() => parseHostLocalConfig({ cniVersion: '1.1.0', name: 'n', type: 't' }, request()));
    expect(error.message).toBe('invalid config: "ipam" is missing');
  });

  describe('requested addresses', () => {
    const ranges = [[{ subnet: '10.1.0.0/24' }], [{ subnet: 'fd00::/64' }]];
    const requested = (extra: Partial<NetConf>, req: Partial<Request> = {}) =>
      parseHostLocalConfig(conf({ ranges }, extra), request(req)).requested.map((ip) => (ip ? formatIp(ip) : undefined));

    it('assigns CNI_ARGS IP, args.cni.ips and runtimeConfig.ips (IPs or CIDRs) to their range sets', () => {
      expect(requested({}, { args: new Map([['IP', '10.1.0.7,fd00::9']]) })).toEqual(['10.1.0.7', 'fd00::9']);
      expect(requested({ args: { cni: { ips: ['fd00::5'] } } })).toEqual([undefined, 'fd00::5']);
      expect(requested({ runtimeConfig: { ips: ['10.1.0.9/24'] } })).toEqual(['10.1.0.9', undefined]);
    });

    it.each([
      [{ runtimeConfig: { ips: ['10.7.0.1'] } }, 7, '"runtimeConfig.ips[0]" "10.7.0.1" is in no configured range'],
      [{ runtimeConfig: { ips: ['10.1.0.1'] } }, 7, '"runtimeConfig.ips[0]" "10.1.0.1" is the gateway'],
      [{ runtimeConfig: { ips: ['10.1.0.2', '10.1.0.3'] } }, 7, '"runtimeConfig.ips[1]" "10.1.0.3" is a second address for range set 0'],
      [{ args: { cni: { ips: ['bogus'] } } }, 7, '"args.cni.ips[0]" "bogus" is not an IP address'],
      [{ runtimeConfig: { ips: '10.1.0.2' } }, 7, '"runtimeConfig.ips" must be a list, got "10.1.0.2"'],
    ])('rejects the request %j', (extra, code, message) => {
      const error = errorOf(() => requested(extra));
      expect(error.code).toBe(code);
      expect(error.message).toContain(message);
    });

    it('rejects a bad CNI_ARGS IP as an invalid environment (code 4)', () => {
      const error = errorOf(() => requested({}, { args: new Map([['IP', '10.1.0.2,nope']]) }));
      expect(error.code).toBe(ErrorCode.InvalidEnvironment);
      expect(error.message).toContain('"CNI_ARGS IP[1]" "nope" is not an IP address');
    });

    it('ignores requested addresses outside ADD, so DEL cannot fail on them', () => {
      expect(requested({ runtimeConfig: { ips: ['10.7.0.1'] } }, { command: 'DEL' })).toEqual([undefined, undefined]);
    });
  });
});

describe('host-local refuses subnets that cannot serve pods', () => {
  it.each([
    ['0.0.0.0/0', '0.0.0.0/8 ("this network", which no host may use)'],
    ['0.0.0.0/30', '0.0.0.0/8'],
    ['127.0.0.0/24', '127.0.0.0/8 (loopback addresses)'],
    ['224.0.0.0/24', '224.0.0.0/4 (multicast addresses)'],
    ['::ffff:10.0.0.0/120', '::ffff:0:0/96 (IPv4-mapped addresses)'],
    ['::/0', '::/128 (the unspecified address)'],
    ['ff02::/64', 'ff00::/8 (multicast addresses)'],
  ])('refuses %s with code 7, saying it includes %s', (subnet, why) => {
    const error = errorOf(() => parseHostLocalConfig(conf({ ranges: [[{ subnet }]] }), request()));
    expect(error.code).toBe(ErrorCode.InvalidConfig);
    expect(error.message).toContain(`invalid config: "ipam.ranges[0][0].subnet" must be a subnet pods can use, not one that includes ${why}`);
  });
});
