import type { Handoff } from '../model/explanation.ts';
import type { Flow } from '../netfilter/flow.ts';
import type { LinkState } from '../state/kernel-state.ts';
import { deliverToPod } from './bridge-hop.ts';
import { linkDown, tooBig } from './causes.ts';
import { broken, packetOf, type Egress, type EgressInput } from './egress-result.ts';
import type { NodeView } from './node-view.ts';
import { sendThroughOverlay } from './overlay-hop.ts';
import { formatRoute, lookupRoute } from './routing.ts';

// The last hop on this node: into a pod on a bridge, into the overlay towards another node, out of
// an uplink, or to the node itself. Each says how the packet ends here and why.

function leaveThroughUplink(view: NodeView, link: LinkState, input: EgressInput): Egress {
  const { flow, size } = input;
  const base = { kind: 'uplink' as const, title: `out through ${link.name}`, mtu: link.mtu };
  const nextHop = input.gateway ?? flow.dst;
  const neighbour = view.kernel.neighbours.find((n) => n.ip === nextHop && n.dev === link.name);
  const evidence = [
    `next hop ${nextHop}${input.gateway ? ' (gateway)' : ' (on the link)'}${neighbour ? `, neighbour ${neighbour.mac ?? 'without address'} ${neighbour.state.join(',')}` : ''}`,
    `${link.name} MTU ${link.mtu}`,
  ];
  if (!link.up) return broken({ ...base, summary: `${link.name} is down`, evidence }, linkDown(link.name));
  if (size > link.mtu) return broken({ ...base, summary: `too big for ${link.name}`, evidence }, tooBig({ size, dev: link.name, mtu: link.mtu }));
  const peer = view.state.weft.leases?.leases.find((l) => l.publicIp === nextHop);
  const handoff: Handoff | undefined = peer ? { node: peer.publicIp, packet: packetOf(flow, size) } : undefined;
  const summary = peer ? `leaves for node ${peer.publicIp} on the underlay` : `leaves the node towards ${nextHop}; not followed further`;
  return { hop: { ...base, status: 'leave', summary, evidence }, outcome: 'leaves', ...(handoff ? { handoff } : {}) };
}

/** Where the routed packet goes from here, given the route's output device. */
export function egress(view: NodeView, dev: string | undefined, input: EgressInput): Egress {
  const link = view.link(dev);
  if (!link) return broken({ kind: 'uplink', title: `out through ${dev ?? '?'}`, summary: `device ${dev ?? '?'} is not on this node`, evidence: [] }, linkDown(dev ?? '?'));
  if (link.kind === 'bridge') return deliverToPod(view, link, input);
  if (link.kind === 'vxlan') return sendThroughOverlay(view, link, input);
  return leaveThroughUplink(view, link, input);
}

/** Delivery to the node's own address (after the input hook accepted it). */
export function deliverLocally(view: NodeView, flow: Flow): Egress {
  const owner = view.kernel.links.find((l) => l.addresses.some((a) => a.ip === flow.dst));
  const route = lookupRoute(view.kernel, { dst: flow.dst });
  const evidence = [`${flow.dst} is ${owner ? `an address of ${owner.name}` : 'local'}${route.route ? ` (route: ${formatRoute(route.route)})` : ''}`];
  return { hop: { kind: 'local', title: 'to the node itself', status: 'deliver', summary: `delivered to the node (${flow.dst}${flow.dport !== undefined ? `:${flow.dport}` : ''})`, evidence }, outcome: 'delivered' };
}
