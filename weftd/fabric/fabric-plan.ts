import { localMacFromDigest } from '../../lib/mac.ts';
import { sha256 } from '../../lib/sha256.ts';
import { ipv4CidrContains, formatIpv4Cidr, formatIpv4, parseIpv4, type Ipv4Cidr } from '../../lib/ip.ts';
import { leaseId, type Lease } from '../subnet/lease.ts';

// What the kernel must hold for the other nodes' leases, and the commands that move it from one
// lease set to the next. Per remote node either the VXLAN triple (flannel's order: FDB entry,
// permanent neighbour, onlink route) or, with DirectRouting and a peer on the uplink's L2 subnet,
// one plain route via the peer's public IP.

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

export interface FabricCommands {
  /** `ip -batch` lines removing routes and neighbours of peers that went away or changed. */
  ipRemove: string[];
  /** `bridge -batch` lines removing FDB entries. */
  bridgeRemove: string[];
  bridgeAdd: string[];
  ipAdd: string[];
  /**
   * A known peer changed (its VTEP, public IP or path): the FDB program runs before the ip program,
   * so its route never points at a VTEP without an FDB entry. With new and removed peers only, the two
   * run at once: a subnet that just appeared carries no traffic yet.
   */
  fdbFirst: boolean;
}

/** Nothing to do. */
export function noFabricCommands(): FabricCommands {
  return { ipRemove: [], bridgeRemove: [], bridgeAdd: [], ipAdd: [], fdbFirst: false };
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

/**
 * Removes the permanent neighbour of a peer. `ip neigh del` of an entry already gone ends the whole
 * `ip -batch` process (iproute2 exits on that netlink error even with -force); a flush removes the
 * entry or nothing, and never fails.
 */
export function neighbourRemoval(device: string, address: string): string {
  return `neigh flush to ${address} dev ${device} nud all`;
}

function samePeer(a: Peer, b: Peer): boolean {
  return a.publicIp === b.publicIp && a.vtepMac === b.vtepMac && a.direct === b.direct;
}

function routeLine(spec: FabricSpec, peer: Peer): string {
  const dst = formatIpv4Cidr(peer.subnet);
  return peer.direct
    ? `route replace ${dst} via ${peer.publicIp} dev ${spec.uplink.name}`
    : `route replace ${dst} via ${formatIpv4(peer.subnet.network)} dev ${spec.device} onlink`;
}

/** Commands taking the kernel from the `before` peers to the `after` peers; unchanged peers produce none. */
export function planFabricChange(spec: FabricSpec, before: ReadonlyMap<string, Peer>, after: ReadonlyMap<string, Peer>): FabricCommands {
  const commands = noFabricCommands();
  for (const [id, old] of before) {
    const next = after.get(id);
    if (next && samePeer(old, next)) continue;
    // A changed peer whose route just moves is replaced below; only drop the route when the subnet is gone.
    if (!next) commands.ipRemove.push(`route del ${formatIpv4Cidr(old.subnet)}`);
    if (!old.direct) {
      commands.ipRemove.push(neighbourRemoval(spec.device, formatIpv4(old.subnet.network)));
      commands.bridgeRemove.push(`fdb del ${old.vtepMac} dev ${spec.device} dst ${old.publicIp} self`);
    }
  }
  for (const [id, peer] of after) {
    const old = before.get(id);
    if (old && samePeer(old, peer)) continue;
    if (old) commands.fdbFirst = true;
    if (!peer.direct) {
      commands.bridgeAdd.push(`fdb replace ${peer.vtepMac} dev ${spec.device} dst ${peer.publicIp} self permanent`);
      commands.ipAdd.push(`neigh replace ${formatIpv4(peer.subnet.network)} lladdr ${peer.vtepMac} dev ${spec.device} nud permanent`);
    }
    commands.ipAdd.push(routeLine(spec, peer));
  }
  return commands;
}
