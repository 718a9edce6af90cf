import { CniError, ErrorCode } from '../cni/errors.ts';
import type { Attachment, IPConfig, Result, Route } from '../cni/types.ts';
import { cidrContains, formatCidr, formatIp, networkAddress, offsetIp, parseCidr, parseIp, type Cidr, type Family } from '../../lib/ip.ts';
import { ipLine } from '../../lib/ip-batch.ts';
import type { LinkRequest } from '../../lib/netlink/link-requests.ts';
import type { BridgeConfig } from './config.ts';
import { attachmentTag, bridgeMac, hostVethMac, hostVethName, podMac } from './names.ts';

// What one ADD does, decided without touching the system, as rtnetlink requests: one list for the
// node's namespace, one for the pod's (and `bridge -batch` lines for a VLAN).

/** Index of the pod interface in the result's interfaces: [bridge, host veth, pod interface]. */
const POD_INTERFACE = 2;

export interface AttachmentPlan {
  config: BridgeConfig;
  attachment: Attachment;
  netns: string;
  hostVeth: string;
  hostMac: string;
  podMac: string;
  /** The pod's addresses, gateways filled in as the reference plugin does. */
  ips: IPConfig[];
  /** The pod's routes: IPAM's, plus a default route per family when isDefaultGateway. */
  routes: Route[];
  /** Addresses the bridge carries when isGateway, "gateway/prefix". */
  gateways: string[];
}

function cidrOf(ip: IPConfig): Cidr {
  const cidr = parseCidr(ip.address);
  if (!cidr) throw new CniError(ErrorCode.DecodeFailure, `cannot use IPAM address "${ip.address}": not an address/prefix`);
  return cidr;
}

const DEFAULT_DST: Record<Family, string> = { 4: '0.0.0.0/0', 6: '::/0' };

function routeFamily(route: Route): Family | undefined {
  return parseCidr(route.dst)?.ip.family;
}

export function planAttachment(config: BridgeConfig, attachment: Attachment, options: { netns: string; ipam?: Result }): AttachmentPlan {
  const ips: IPConfig[] = [];
  const gateways = new Set<string>();
  for (const ip of options.ipam?.ips ?? []) {
    const cidr = cidrOf(ip);
    // As the reference: without an IPAM gateway, a gateway bridge takes the subnet's first address.
    const gateway = ip.gateway ?? (config.isGateway ? formatIp(offsetIp(networkAddress(cidr), 1n)) : undefined);
    if (gateway !== undefined) {
      const gw = parseIp(gateway);
      if (!gw || !cidrContains(cidr, gw)) throw new CniError(ErrorCode.InvalidConfig, `cannot use gateway "${gateway}": not inside "${ip.address}"`);
      if (config.isGateway) gateways.add(formatCidr({ ip: gw, prefix: cidr.prefix }));
    }
    ips.push({ address: ip.address, ...(gateway !== undefined ? { gateway } : {}), interface: POD_INTERFACE });
  }
  const routes = [...(options.ipam?.routes ?? [])];
  if (config.isDefaultGateway) {
    for (const family of [4, 6] as const) {
      const gateway = ips.find((ip) => cidrOf(ip).ip.family === family && ip.gateway !== undefined)?.gateway;
      const hasDefault = routes.some((r) => routeFamily(r) === family && parseCidr(r.dst)?.prefix === 0);
      if (gateway !== undefined && !hasDefault) routes.push({ dst: DEFAULT_DST[family], gw: gateway });
    }
  }
  return {
    config,
    attachment,
    netns: options.netns,
    hostVeth: hostVethName(attachment),
    hostMac: hostVethMac(attachment),
    podMac: config.mac ?? podMac(attachment),
    ips,
    routes,
    gateways: [...gateways],
  };
}

/** Creates the bridge with a fixed MAC; the caller tolerates "File exists" from a concurrent ADD. */
export function renderBridgeCreate(config: BridgeConfig): LinkRequest {
  return { op: 'create-bridge', name: config.bridge, mac: bridgeMac(config.bridge), ...(config.mtu ? { mtu: config.mtu } : {}), vlanFiltering: Boolean(config.vlan) };
}

const LINK_LOCAL_V6 = parseCidr('fe80::/10')!;

export interface BridgeAddress {
  family: Family;
  local: string;
  prefixlen: number;
}

/** The bridge as an ADD found it, before its veth joined. */
export interface BridgeState {
  mac: string;
  up: boolean;
  promisc: boolean;
  addresses: BridgeAddress[];
}

/**
 * Gateway addresses for the bridge, as the reference's forceAddress semantics: an IPv4 bridge holds one
 * address, IPv6 ones may differ when their subnets don't overlap; a conflicting address is an error unless
 * forceAddress, which replaces it. A gateway the bridge already holds needs no request (as the reference);
 * replacing rather than adding keeps concurrent ADDs from failing with "File exists".
 */
export function renderGatewayAddresses(plan: AttachmentPlan, existing: readonly BridgeAddress[]): LinkRequest[] {
  const { bridge, forceAddress } = plan.config;
  const requests: LinkRequest[] = [];
  for (const gateway of plan.gateways) {
    const wanted = parseCidr(gateway)!;
    let held = false;
    for (const have of existing) {
      const current = parseCidr(`${have.local}/${have.prefixlen}`);
      if (!current || current.ip.family !== wanted.ip.family) continue;
      if (current.ip.value === wanted.ip.value && current.prefix === wanted.prefix) {
        held = true;
        continue;
      }
      if (cidrContains(LINK_LOCAL_V6, current.ip)) continue; // the kernel's own address
      const overlaps = cidrContains(current, networkAddress(wanted)) || cidrContains(wanted, networkAddress(current));
      if (current.ip.family === 6 && !overlaps) continue;
      if (!forceAddress) throw new CniError(ErrorCode.InvalidConfig, `cannot add gateway "${gateway}" to bridge "${bridge}": it has "${have.local}/${have.prefixlen}" (set forceAddress to replace it)`);
      requests.push({ op: 'delete-address', link: bridge, address: current });
    }
    // Without DAD the gateway answers at once; a tentative one drops the pods' first IPv6 packets for ~2 s.
    if (!held) requests.push({ op: 'replace-address', link: bridge, address: wanted, nodad: wanted.ip.family === 6 });
  }
  return requests;
}

/** Node side: the veth pair with its peer created directly in the pod's namespace, attached to the bridge and up. */
export function renderHostVeth(plan: AttachmentPlan): LinkRequest[] {
  const { config, hostVeth } = plan;
  return [
    { op: 'create-veth', name: hostVeth, mac: plan.hostMac, ...(config.mtu ? { mtu: config.mtu } : {}), peer: { name: plan.attachment.ifname, mac: plan.podMac, netns: plan.netns } },
    { op: 'set-alias', name: hostVeth, alias: attachmentTag(config.name, plan.attachment) },
    { op: 'set-master', name: hostVeth, master: config.bridge },
    ...(config.hairpinMode ? [{ op: 'set-link', name: hostVeth, set: 'hairpin' } as const] : []),
    { op: 'set-link', name: hostVeth, set: 'up' },
  ];
}

/** The bridge up (and promiscuous with promiscMode), when it is not already. */
export function renderBridgeUp(config: BridgeConfig, state: BridgeState): LinkRequest[] {
  return [
    ...(state.up ? [] : [{ op: 'set-link', name: config.bridge, set: 'up' } as const]),
    ...(config.promiscMode && !state.promisc ? [{ op: 'set-link', name: config.bridge, set: 'promisc' } as const] : []),
  ];
}

function renderRoute(route: Route, plan: AttachmentPlan): LinkRequest {
  const dst = parseCidr(route.dst);
  if (dst === undefined) throw new CniError(ErrorCode.InvalidConfig, `cannot add route to "${route.dst}": not an address/prefix`);
  const family = dst.ip.family;
  // As the reference's ConfigureIface: a route without a gateway goes via the pod's gateway of its family.
  const gw = route.gw ?? plan.ips.find((ip) => cidrOf(ip).ip.family === family)?.gateway;
  const via = gw === undefined ? undefined : parseIp(gw);
  if (gw !== undefined && via?.family !== family) throw new CniError(ErrorCode.InvalidConfig, `cannot add route to "${route.dst}": gateway "${gw}" is not an IPv${family} address`);
  return {
    op: 'add-route',
    link: plan.attachment.ifname,
    dst,
    ...(via ? { via } : {}),
    ...(route.priority !== undefined ? { metric: route.priority } : {}),
    ...(route.table !== undefined ? { table: route.table } : {}),
    ...(route.scope !== undefined ? { scope: route.scope } : {}),
    ...(route.mtu !== undefined ? { mtu: route.mtu } : {}),
    ...(route.advmss !== undefined ? { advmss: route.advmss } : {}),
  };
}

/** Pod side: addresses (IPv6 without duplicate address detection, so it is usable at once), link up, routes. */
export function renderPodSetup(plan: AttachmentPlan): LinkRequest[] {
  const ifname = plan.attachment.ifname;
  return [
    ...plan.ips.map((ip): LinkRequest => ({ op: 'add-address', link: ifname, address: cidrOf(ip), nodad: cidrOf(ip).ip.family === 6 })),
    { op: 'set-link', name: ifname, set: 'up' },
    ...plan.routes.map((route) => renderRoute(route, plan)),
  ];
}

export function buildResult(plan: AttachmentPlan, options: { bridgeMac: string; ipam?: Result }): Result {
  const dns = plan.config.dns && Object.keys(plan.config.dns).length > 0 ? plan.config.dns : options.ipam?.dns;
  return {
    cniVersion: options.ipam?.cniVersion ?? '1.1.0',
    interfaces: [
      { name: plan.config.bridge, mac: options.bridgeMac },
      { name: plan.hostVeth, mac: plan.hostMac },
      { name: plan.attachment.ifname, mac: plan.podMac, sandbox: plan.netns },
    ],
    ips: plan.ips,
    ...(plan.routes.length ? { routes: plan.routes } : {}),
    ...(dns ? { dns } : {}),
  };
}

/**
 * `bridge -batch` lines putting the pod's port in its VLAN, untagged, instead of the default VLAN 1;
 * with isGateway the bridge itself joins the VLAN so the gateway address is reachable from it.
 */
export function renderVlan(plan: AttachmentPlan): string[] {
  const { vlan, bridge, isGateway } = plan.config;
  if (!vlan) return [];
  return [
    ipLine`vlan del dev ${plan.hostVeth} vid 1`,
    ipLine`vlan add dev ${plan.hostVeth} vid ${vlan} pvid untagged`,
    ...(isGateway ? [ipLine`vlan add dev ${bridge} vid ${vlan} pvid untagged self`] : []),
  ];
}
