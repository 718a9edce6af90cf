import { describe, expect, it } from 'vitest';
import { FieldError } from '../../../lib/fields.ts';
import type { NetConf } from '../../../plugins/cni/types.ts';
import { buildDelegateConf, parseVxlanCniConfig } from '../../../plugins/vxlan/cni-config.ts';
import { parseIpv4Cidr } from '../../../lib/ip.ts';

const conf = (extra: Record<string, unknown> = {}): NetConf => ({ cniVersion: '1.0.0', name: 'cbr0', type: 'weft-vxlan', ...extra });
const subnet = { network: parseIpv4Cidr('10.244.0.0/16')!, subnet: parseIpv4Cidr('10.244.3.1/24')!, mtu: 1450, ipMasq: true };

describe('parseVxlanCniConfig', () => {
  it('defaults subnetFile and dataDir like flannel, under weft names', () => {
    expect(parseVxlanCniConfig(conf())).toEqual({ subnetFile: '/run/weft/subnet.env', dataDir: '/var/lib/cni/weft-vxlan', delegate: {} });
  });

  it.each([
    ['a relative subnetFile', { subnetFile: 'subnet.env' }, /"subnetFile"/],
    ['a dataDir with ..', { dataDir: '/var/lib/../../etc' }, /"dataDir"/],
    ['a delegate that is not an object', { delegate: 'bridge' }, /"delegate"/],
    ['a delegate type that is a path', { delegate: { type: '../bin/sh' } }, /"delegate.type"/],
  ])('rejects %s naming the field', (_, extra, message) => {
    expect(() => parseVxlanCniConfig(conf(extra))).toThrow(FieldError);
    expect(() => parseVxlanCniConfig(conf(extra))).toThrow(message);
  });
});

describe('buildDelegateConf', () => {
  it('builds a gateway bridge with host-local over the node subnet, route to the cluster network, masquerade negated', () => {
    const c = conf();
    expect(buildDelegateConf(c, parseVxlanCniConfig(c), subnet)).toEqual({
      cniVersion: '1.0.0',
      name: 'cbr0',
      type: 'weft-bridge',
      bridge: 'cni0',
      isGateway: true,
      isDefaultGateway: true,
      ipMasq: false,
      mtu: 1450,
      ipam: { type: 'weft-host-local', ranges: [[{ subnet: '10.244.3.0/24' }]], routes: [{ dst: '10.244.0.0/16' }] },
    });
  });

  it('lets the delegate override type, bridge and ipam keys while keeping the subnet', () => {
    const c = conf({ delegate: { type: 'bridge', bridge: 'br-pods', ipam: { type: 'host-local', dataDir: '/tmp/x' } } });
    const built = buildDelegateConf(c, parseVxlanCniConfig(c), { ...subnet, ipMasq: false });
    expect(built).toMatchObject({ type: 'bridge', bridge: 'br-pods', ipMasq: true, ipam: { type: 'host-local', dataDir: '/tmp/x', ranges: [[{ subnet: '10.244.3.0/24' }]] } });
  });
});
