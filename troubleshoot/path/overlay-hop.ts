import { formatIpv4Cidr } from '../../lib/ip.ts';
import { VXLAN_OVERHEAD } from '../../plugins/vxlan/vxlan-device.ts';
import type { LinkState } from '../state/kernel-state.ts';
import { linkDown, noFdb, noNeighbour, staleFdb, tooBig } from './causes.ts';
import { broken, packetOf, type Egress, type EgressInput } from './egress-result.ts';
import type { NodeView } from './node-view.ts';
import { lookupRoute } from './routing.ts';

// Into the VXLAN overlay: the route's next hop (the peer subnet's VTEP address) resolves through a
// permanent neighbour entry to the peer's VTEP MAC, the FDB maps that MAC to the peer's underlay
// address, and the encapsulated packet (50 bytes more) leaves through the uplink. Each link of that
// chain, and the lease it should come from, is evidence.

const RESOLVED = new Set(['PERMANENT', 'REACHABLE', 'STALE', 'DELAY', 'PROBE', 'NOARP']);

export function sendThroughOverlay(view: NodeView, dev: LinkState, input: EgressInput): Egress {
  const { flow, size } = input;
  const nextHop = input.gateway ?? flow.dst;
  const lease = view.leaseFor(flow.dst) ?? view.leaseFor(nextHop);
  const evidence: string[] = [`${dev.name}: VNI ${dev.vxlan?.vni ?? '?'}, port ${dev.vxlan?.port ?? '?'}, local ${dev.vxlan?.local ?? '?'}, MTU ${dev.mtu}`];
  if (lease) evidence.push(`lease ${formatIpv4Cidr(lease.subnet)}: node ${lease.publicIp}, VTEP MAC ${lease.vtepMac}, VNI ${lease.vni}`);
  const base = { kind: 'overlay' as const, title: `VXLAN ${dev.name}${lease ? ` to node ${lease.publicIp}` : ''}`, evidence, mtu: dev.mtu };
  if (!dev.up) return broken({ ...base, summary: `${dev.name} is down` }, linkDown(dev.name));
  if (size > dev.mtu) {
    const uplink = view.link(dev.vxlan?.dev);
    return broken({ ...base, summary: `too big for ${dev.name}` }, tooBig({ size, dev: dev.name, mtu: dev.mtu, ...(uplink ? { wanted: uplink.mtu - VXLAN_OVERHEAD } : {}) }));
  }
  const neighbour = view.kernel.neighbours.find((n) => n.ip === nextHop && n.dev === dev.name);
  if (!neighbour?.mac || !neighbour.state.some((s) => RESOLVED.has(s))) {
    if (neighbour) evidence.push(`neighbour ${nextHop} on ${dev.name}: ${neighbour.state.join(',') || 'no state'}, no address`);
    return broken({ ...base, summary: `${nextHop} does not resolve on ${dev.name}` }, noNeighbour({ ip: nextHop, dev: dev.name, ...(lease ? { lease } : {}) }));
  }
  const mac = neighbour.mac.toLowerCase();
  evidence.push(`neighbour ${nextHop} -> ${mac} (${neighbour.state.join(',')})`);
  if (lease && lease.vtepMac !== mac) evidence.push(`the neighbour's MAC differs from the lease's VTEP MAC ${lease.vtepMac}`);
  const fdb = view.kernel.fdb.find((f) => f.dev === dev.name && f.mac === mac && f.dst);
  if (!fdb?.dst) return broken({ ...base, summary: `no FDB entry for ${mac}` }, noFdb({ mac, dev: dev.name, ...(lease ? { lease } : {}) }));
  evidence.push(`FDB ${mac} -> ${fdb.dst}`);
  if (lease && fdb.dst !== lease.publicIp) return broken({ ...base, summary: `FDB points at ${fdb.dst}` }, staleFdb({ mac, dev: dev.name, dst: fdb.dst, lease }));
  const underlay = lookupRoute(view.kernel, { dst: fdb.dst });
  const uplink = view.link(underlay.dev);
  const outer = size + VXLAN_OVERHEAD;
  if (uplink) {
    evidence.push(`underlay: ${fdb.dst} via ${underlay.gateway ?? 'the link'} on ${uplink.name} (MTU ${uplink.mtu}); encapsulated ${outer} bytes`);
    if (outer > uplink.mtu) {
      if (dev.vxlan?.df === 'set') return broken({ ...base, summary: `the encapsulated packet does not fit ${uplink.name}` }, tooBig({ size: outer, dev: uplink.name, mtu: uplink.mtu }));
      evidence.push(`the encapsulated packet exceeds ${uplink.name}'s MTU: the kernel fragments it (df ${dev.vxlan?.df ?? 'unset'}), which costs throughput`);
    }
  } else evidence.push(`underlay: no route to ${fdb.dst}`);
  const summary = `encapsulated (VNI ${dev.vxlan?.vni ?? '?'}) to node ${fdb.dst}`;
  return { hop: { ...base, status: 'leave', summary }, outcome: 'leaves', handoff: { node: fdb.dst, device: dev.name, packet: packetOf(flow, size) } };
}
