import { describe, expect, it } from 'vitest';
import { CniError } from '../../../plugins/cni/errors.ts';
import { parseBridgeConfig, type BridgeConfig } from '../../../plugins/bridge/config.ts';
import { hostVethName, podMac, hostVethMac } from '../../../plugins/bridge/names.ts';
import { planAttachment, renderBridgeCreate, renderBridgeUp, renderGatewayAddresses, renderHostVeth, renderPodSetup, renderVlan, buildResult } from '../../../plugins/bridge/plan.ts';
import { renderResult } from '../../../plugins/cni/result.ts';
import type { Result } from '../../../plugins/cni/types.ts';
import { parseCidr, parseIp } from '../../../lib/ip.ts';

const cidr = (text: string) => parseCidr(text)!;
const ip = (text: string) => parseIp(text)!;

const attachment = { containerId: 'c1', ifname: 'eth0' };
const netns = '/var/run/netns/pod';
const H = hostVethName(attachment);

function config(extra: Record<string, unknown> = {}): BridgeConfig {
  return parseBridgeConfig(
    { cniVersion: '1.1.0', name: 'net', type: 'weft-bridge', bridge: 'br0', ipam: { type: 'host-local' }, ...extra },
    { command: 'ADD', containerId: 'c1', ifname: 'eth0', netns, args: new Map(), path: ['/bin'], depth: 0 },
  );
}

const ipam: Result = { cniVersion: '1.0.0', ips: [{ address: '10.1.0.5/24' }, { address: 'fd00:1::5/64', gateway: 'fd00:1::1' }], routes: [{ dst: '192.168.0.0/16' }] };

describe('planAttachment', () => {
  it('fills in the first address of the subnet as gateway on a gateway bridge, and points ips at the pod interface', () => {
    const plan = planAttachment(config({ isGateway: true }), attachment, { netns, ipam });
    expect(plan.ips).toEqual([
      { address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 2 },
      { address: 'fd00:1::5/64', gateway: 'fd00:1::1', interface: 2 },
    ]);
    expect(plan.gateways).toEqual(['10.1.0.1/24', 'fd00:1::1/64']);
  });

  it('leaves gateways alone and the bridge without address when not a gateway', () => {
    const plan = planAttachment(config(), attachment, { netns, ipam });
    expect(plan.ips[0]).toEqual({ address: '10.1.0.5/24', interface: 2 });
    expect(plan.gateways).toEqual([]);
  });

  it('adds a default route per family on a default gateway bridge unless IPAM already gave one', () => {
    const plan = planAttachment(config({ isDefaultGateway: true }), attachment, { netns, ipam: { ...ipam, routes: [{ dst: '::/0', gw: 'fd00:1::1' }] } });
    expect(plan.routes).toEqual([{ dst: '::/0', gw: 'fd00:1::1' }, { dst: '0.0.0.0/0', gw: '10.1.0.1' }]);
  });

  it('rejects an IPAM gateway outside the address subnet', () => {
    expect(() => planAttachment(config(), attachment, { netns, ipam: { cniVersion: '1.0.0', ips: [{ address: '10.1.0.5/24', gateway: '10.2.0.1' }] } })).toThrow(CniError);
  });

  it('uses the MAC the runtime asked for', () => {
    expect(planAttachment(config({ runtimeConfig: { mac: '0a:00:00:00:00:09' } }), attachment, { netns, ipam }).podMac).toBe('0a:00:00:00:00:09');
  });
});

describe('rendered netlink requests', () => {
  it('creates the bridge with a fixed MAC, MTU and VLAN filtering', () => {
    expect(renderBridgeCreate(config({ mtu: 1400, vlan: 10 }))).toEqual({ op: 'create-bridge', name: 'br0', mac: expect.stringMatching(/^[0-9a-f:]{17}$/), mtu: 1400, vlanFiltering: true });
    expect(renderBridgeCreate(config())).toMatchObject({ vlanFiltering: false });
  });

  it('creates the veth with its peer directly in the pod namespace, tags, attaches and raises it', () => {
    const plan = planAttachment(config({ mtu: 1400, hairpinMode: true }), attachment, { netns, ipam });
    expect(renderHostVeth(plan)).toEqual([
      { op: 'create-veth', name: H, mac: hostVethMac(attachment), mtu: 1400, peer: { name: 'eth0', mac: podMac(attachment), netns } },
      { op: 'set-alias', name: H, alias: 'weft-bridge net=net id=c1 if=eth0' },
      { op: 'set-master', name: H, master: 'br0' },
      { op: 'set-link', name: H, set: 'hairpin' },
      { op: 'set-link', name: H, set: 'up' },
    ]);
  });

  it('configures the pod: IPv6 without DAD, link up, routes via the family gateway', () => {
    const plan = planAttachment(config({ isDefaultGateway: true }), attachment, { netns, ipam });
    expect(renderPodSetup(plan)).toEqual([
      { op: 'add-address', link: 'eth0', address: cidr('10.1.0.5/24'), nodad: false },
      { op: 'add-address', link: 'eth0', address: cidr('fd00:1::5/64'), nodad: true },
      { op: 'set-link', name: 'eth0', set: 'up' },
      { op: 'add-route', link: 'eth0', dst: cidr('192.168.0.0/16'), via: ip('10.1.0.1') },
      { op: 'add-route', link: 'eth0', dst: cidr('0.0.0.0/0'), via: ip('10.1.0.1') },
      { op: 'add-route', link: 'eth0', dst: cidr('::/0'), via: ip('fd00:1::1') },
    ]);
  });

  it('renders 1.1.0 route attributes', () => {
    const plan = planAttachment(config(), attachment, { netns, ipam: { cniVersion: '1.1.0', ips: [{ address: '10.1.0.5/24' }], routes: [{ dst: '10.9.0.0/16', gw: '10.1.0.9', priority: 5, mtu: 1300, table: 100, scope: 200, advmss: 1200 }] } });
    expect(renderPodSetup(plan).at(-1)).toEqual({ op: 'add-route', link: 'eth0', dst: cidr('10.9.0.0/16'), via: ip('10.1.0.9'), metric: 5, table: 100, scope: 200, mtu: 1300, advmss: 1200 });
  });

  it('refuses a route gateway that is not one address of the route\'s family, naming it', () => {
    for (const gw of ['10.1.0.9 table 5', 'fd00:1::9', 'not-an-ip']) {
      const plan = planAttachment(config(), attachment, { netns, ipam: { cniVersion: '1.1.0', ips: [{ address: '10.1.0.5/24' }], routes: [{ dst: '10.9.0.0/16', gw }] } });
      expect(() => renderPodSetup(plan)).toThrow(CniError);
      expect(() => renderPodSetup(plan)).toThrow(`gateway "${gw}" is not an IPv4 address`);
    }
  });

  it('puts the port in its VLAN untagged, and the bridge too when it is the gateway', () => {
    expect(renderVlan(planAttachment(config({ vlan: 7, isGateway: true }), attachment, { netns, ipam }))).toEqual([
      `vlan del dev ${H} vid 1`,
      `vlan add dev ${H} vid 7 pvid untagged`,
      'vlan add dev br0 vid 7 pvid untagged self',
    ]);
    expect(renderVlan(planAttachment(config(), attachment, { netns, ipam }))).toEqual([]);
  });
});

describe('renderGatewayAddresses', () => {
  const plan = (extra: Record<string, unknown>) => planAttachment(config({ isGateway: true, ...extra }), attachment, { netns, ipam });

  it('replaces rather than adds, so concurrent ADDs never meet "File exists"', () => {
    expect(renderGatewayAddresses(plan({}), [])).toEqual([
      { op: 'replace-address', link: 'br0', address: cidr('10.1.0.1/24'), nodad: false },
      { op: 'replace-address', link: 'br0', address: cidr('fd00:1::1/64'), nodad: true },
    ]);
  });

  it('writes no request for a gateway the bridge holds, and ignores link-local and non-overlapping IPv6 ones', () => {
    const existing = [
      { family: 4 as const, local: '10.1.0.1', prefixlen: 24 },
      { family: 6 as const, local: 'fe80::1', prefixlen: 64 },
      { family: 6 as const, local: 'fd00:2::1', prefixlen: 64 },
    ];
    expect(renderGatewayAddresses(plan({}), existing)).toEqual([{ op: 'replace-address', link: 'br0', address: cidr('fd00:1::1/64'), nodad: true }]);
    expect(renderGatewayAddresses(plan({}), [...existing, { family: 6, local: 'fd00:1::1', prefixlen: 64 }])).toEqual([]);
  });

  it('adds a gateway the bridge holds with another prefix length as a conflict', () => {
    expect(() => renderGatewayAddresses(plan({}), [{ family: 4, local: '10.1.0.1', prefixlen: 16 }])).toThrow(/"10.1.0.1\/16"/);
  });

  it('refuses a different IPv4 address without forceAddress, naming it', () => {
    expect(() => renderGatewayAddresses(plan({}), [{ family: 4, local: '10.7.0.1', prefixlen: 24 }])).toThrow(/"10.7.0.1\/24"/);
  });

  it('replaces a different IPv4 address with forceAddress', () => {
    expect(renderGatewayAddresses(plan({ forceAddress: true }), [{ family: 4, local: '10.7.0.1', prefixlen: 24 }])[0]).toEqual({ op: 'delete-address', link: 'br0', address: cidr('10.7.0.1/24') });
  });
});

describe('renderBridgeUp', () => {
  const state = { mac: '02:00:00:00:00:01', addresses: [] };

  it('sets the bridge up only when it is down, and promiscuous only with promiscMode when it is not', () => {
    expect(renderBridgeUp(config(), { ...state, up: false, promisc: false })).toEqual([{ op: 'set-link', name: 'br0', set: 'up' }]);
    expect(renderBridgeUp(config(), { ...state, up: true, promisc: false })).toEqual([]);
    expect(renderBridgeUp(config({ promiscMode: true }), { ...state, up: true, promisc: false })).toEqual([{ op: 'set-link', name: 'br0', set: 'promisc' }]);
    expect(renderBridgeUp(config({ promiscMode: true }), { ...state, up: true, promisc: true })).toEqual([]);
  });
});

describe('buildResult', () => {
  const plan = planAttachment(config({ isDefaultGateway: true, dns: { nameservers: ['10.96.0.10'] } }), attachment, { netns, ipam });
  const result = buildResult(plan, { bridgeMac: '02:00:00:00:00:01', ipam });

  it('lists bridge, host veth and pod interface, with ips pointing at the pod interface', () => {
    expect(result.interfaces).toEqual([
      { name: 'br0', mac: '02:00:00:00:00:01' },
      { name: H, mac: hostVethMac(attachment) },
      { name: 'eth0', mac: podMac(attachment), sandbox: netns },
    ]);
    expect(result.ips!.every((ip) => ip.interface === 2)).toBe(true);
    expect(result.dns).toEqual({ nameservers: ['10.96.0.10'] });
  });

  it.each([
    ['0.3.0', true],
    ['0.3.1', true],
    ['0.4.0', true],
    ['1.0.0', false],
    ['1.1.0', false],
  ])('renders in version %s with per-IP "version": %s', (version, tagged) => {
    const rendered = renderResult(result, version) as { cniVersion: string; ips: Record<string, unknown>[]; interfaces: unknown[] };
    expect(rendered.cniVersion).toBe(version);
    expect(rendered.interfaces).toHaveLength(3);
    expect('version' in rendered.ips[0]!).toBe(tagged);
    if (tagged) expect(rendered.ips.map((ip) => ip.version)).toEqual(['4', '6']);
  });
});
