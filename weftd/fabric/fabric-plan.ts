import { localMacFromDigest } from '../../lib/mac.ts';
import { sha256 } from '../../lib/sha256.ts';
import { cidrFromIpv4, ipFromIpv4, ipv4CidrContains, formatCidr, formatIp, parseIp, parseIpv4, type Ipv4Cidr } from '../../lib/ip.ts';
import type { LinkRequest } from '../../lib/netlink/link-requests.ts';
import { leaseId, type Lease } from '../subnet/lease.ts';

// What the kernel must hold for the other nodes' leases, and the rtnetlink requests that move it from
// one lease set to the next. Per remote node either the VXLAN triple (flannel's order: FDB entry,
// permanent neighbour, onlink route, so a route never points at a VTEP its packets cannot be
// encapsulated to) or, with DirectRouting and a peer on the uplink's L2 subnet, one plain route via
// the peer's public IP.

export interface Uplink {
  name: string;
  /** The uplink's own IPv4 address and its connected subnet. */
  address: string;
  subnet: Ipv4Cidr;
  mtu: number;
}

export interface FabricSpec {
  device: string;
  uplink: Uplink;
  directRouting: boolean;
  vni: number;
  /** This node's own lease, never programmed as a peer. */
  own: Ipv4Cidr;
}

export interface Peer {
  subnet: Ipv4Cidr;
  publicIp: string;
  vtepMac: string;
  direct: boolean;
}

/** The requests a fabric change is made of. */
export type FabricRequest = Extract<LinkRequest, { op: 'replace-route' | 'delete-route' | 'replace-neighbour' | 'delete-neighbour' | 'replace-fdb' | 'delete-fdb' }>;

export interface FabricCommands {
  /** Routes, neighbours and FDB entries of peers that went away or changed: an entry already gone is the goal reached. */
  remove: FabricRequest[];
  /** Each new or changed peer's entries, in flannel's order. */
  add: FabricRequest[];
}

/** Nothing to do. */
export function noFabricCommands(): FabricCommands {
  return { remove: [], add: [] };
}

/** The routes to a subnet: on a device, or any (a peer that went away). */
export function routeRemoval(subnet: Ipv4Cidr, link?: string): FabricRequest {
  return { op: 'delete-route', dst: cidrFromIpv4(subnet), ...(link !== undefined ? { link } : {}) };
}

export function neighbourRemoval(device: string, address: number): FabricRequest {
  return { op: 'delete-neighbour', link: device, address: ipFromIpv4(address) };
}

export function fdbRemoval(device: string, mac: string, dst: number): FabricRequest {
  return { op: 'delete-fdb', link: device, mac, dst: ipFromIpv4(dst) };
}

/** The request as the ip or bridge command that makes the same change, for a person to read or run. */
export function fabricCommandLine(request: FabricRequest): string {
  switch (request.op) {
    case 'replace-route':
      return `ip route replace ${formatCidr(request.dst)} via ${formatIp(request.via!)} dev ${request.link}${request.onlink ? ' onlink' : ''}`;
    case 'delete-route':
      return `ip route del ${formatCidr(request.dst)}${request.link !== undefined ? ` dev ${request.link}` : ''}`;
    case 'replace-neighbour':
      return `ip neigh replace ${formatIp(request.address)} lladdr ${request.mac} dev ${request.link} nud permanent`;
    case 'delete-neighbour':
      return `ip neigh del ${formatIp(request.address)} dev ${request.link}`;
    case 'replace-fdb':
      return `bridge fdb replace ${request.mac} dev ${request.link} dst ${formatIp(request.dst)} self permanent`;
    case 'delete-fdb':
      return `bridge fdb del ${request.mac} dev ${request.link} dst ${formatIp(request.dst)} self`;
  }
}

/** The VXLAN device's name: "weft." + VNI (at most 13 of the 15 characters an interface name may use). */
export function deviceName(vni: number): string {
  return `weft.${vni}`;
}

/** A MAC derived from the public IP and VNI, so a restarted node keeps the one its peers hold. */
export function vtepMacFor(publicIp: string, vni: number): string {
  return localMacFromDigest(sha256(`weft-vtep/${publicIp}/${vni}`));
}

/** The peers to program for a lease set, keyed by subnet. */
export function planPeers(spec: FabricSpec, leases: Iterable<Lease>): Map<string, Peer> {
  const peers = new Map<string, Peer>();
  for (const lease of leases) {
    const sameSubnet = lease.subnet.network === spec.own.network && lease.subnet.prefix === spec.own.prefix;
    if (sameSubnet || lease.publicIp === spec.uplink.address || lease.vni !== spec.vni) continue;
    const ip = spec.directRouting ? parseIpv4(lease.publicIp) : undefined;
    const direct = ip !== undefined && ipv4CidrContains(spec.uplink.subnet, ip);
    peers.set(leaseId(lease), { subnet: lease.subnet, publicIp: lease.publicIp, vtepMac: lease.vtepMac, direct });
  }
  return peers;
}

function samePeer(a: Peer, b: Peer): boolean {
  return a.publicIp === b.publicIp && a.vtepMac === b.vtepMac && a.direct === b.direct;
}

function routeRequest(spec: FabricSpec, peer: Peer): FabricRequest {
  const dst = cidrFromIpv4(peer.subnet);
  return peer.direct
    ? { op: 'replace-route', dst, via: parseIp(peer.publicIp)!, link: spec.uplink.name }
    : { op: 'replace-route', dst, via: ipFromIpv4(peer.subnet.network), link: spec.device, onlink: true };
}

/** Requests taking the kernel from the `before` peers to the `after` peers; unchanged peers produce none. */
export function planFabricChange(spec: FabricSpec, before: ReadonlyMap<string, Peer>, after: ReadonlyMap<string, Peer>): FabricCommands {
  const commands = noFabricCommands();
  for (const [id, old] of before) {
    const next = after.get(id);
    if (next && samePeer(old, next)) continue;
    // A changed peer whose route just moves is replaced below; only drop the route when the subnet is gone.
    if (!next) commands.remove.push(routeRemoval(old.subnet));
    if (!old.direct) commands.remove.push(neighbourRemoval(spec.device, old.subnet.network), fdbRemoval(spec.device, old.vtepMac, parseIpv4(old.publicIp)!));
  }
  for (const [id, peer] of after) {
    const old = before.get(id);
    if (old && samePeer(old, peer)) continue;
    if (!peer.direct) {
      commands.add.push(
        { op: 'replace-fdb', link: spec.device, mac: peer.vtepMac, dst: parseIp(peer.publicIp)! },
        { op: 'replace-neighbour', link: spec.device, address: ipFromIpv4(peer.subnet.network), mac: peer.vtepMac },
      );
    }
    commands.add.push(routeRequest(spec, peer));
  }
  return commands;
}
