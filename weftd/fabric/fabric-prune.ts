import { ipv4CidrContains, formatIpv4Cidr, formatIpv4, parseIpv4Cidr, parseIpv4, type Ipv4Cidr } from '../../lib/ip.ts';
import { fdbRemoval, neighbourRemoval, noFabricCommands, routeRemoval, type FabricCommands, type FabricSpec, type Peer } from './fabric-plan.ts';

// After a restart weftd does not know what its previous run programmed, and leases may have expired
// meanwhile. The first sync therefore also removes what the kernel holds for peers no longer wanted.

/** Fabric entries as `ip -j route|neigh` and `bridge -j fdb` report them. */
export interface KernelFabric {
  /** Routes on the VXLAN device and, for DirectRouting, on the uplink. */
  routes: readonly { dst: string; dev?: string; gateway?: string }[];
  neighbours: readonly { dst: string; lladdr?: string }[];
  fdb: readonly { mac: string; dst?: string }[];
}

/** Removals for kernel entries that belong to no wanted peer; routes outside the cluster network are never touched. */
export function planStalePrune(spec: FabricSpec, network: Ipv4Cidr, wanted: ReadonlyMap<string, Peer>, kernel: KernelFabric): FabricCommands {
  const commands = noFabricCommands();
  const vxlanPeers = [...wanted.values()].filter((p) => !p.direct);
  const wantedNeighbours = new Set(vxlanPeers.map((p) => formatIpv4(p.subnet.network)));
  const wantedFdb = new Set(vxlanPeers.map((p) => `${p.vtepMac}>${p.publicIp}`));
  for (const route of kernel.routes) {
    const dst = parseIpv4Cidr(route.dst);
    if (!dst || !route.gateway || !ipv4CidrContains(network, dst.network) || wanted.has(formatIpv4Cidr(dst))) continue;
    const viaDevice = route.dev === spec.device;
    // On the uplink only routes whose gateway is an underlay neighbour are ours (DirectRouting).
    const viaUplink = route.dev === spec.uplink.name && ipv4CidrContains(spec.uplink.subnet, parseIpv4(route.gateway) ?? 0);
    if (viaDevice || viaUplink) commands.remove.push(routeRemoval(dst, route.dev));
  }
  for (const neighbour of kernel.neighbours) {
    const address = parseIpv4(neighbour.dst);
    if (address !== undefined && !wantedNeighbours.has(neighbour.dst)) commands.remove.push(neighbourRemoval(spec.device, address));
  }
  for (const entry of kernel.fdb) {
    const dst = entry.dst === undefined ? undefined : parseIpv4(entry.dst);
    if (dst !== undefined && !wantedFdb.has(`${entry.mac}>${entry.dst}`)) commands.remove.push(fdbRemoval(spec.device, entry.mac, dst));
  }
  return commands;
}
