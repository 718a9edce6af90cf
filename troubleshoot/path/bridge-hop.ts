import type { LinkState } from '../state/kernel-state.ts';
import { hairpinOff, leakedAddress, linkDown, noPod, tooBig } from './causes.ts';
import { broken, type Egress, type EgressInput } from './egress-result.ts';
import type { NodeView } from './node-view.ts';

// Into a pod on a bridge: the pod's host veth (found by its IPAM allocation and weft-bridge's tag, or
// the bridge's neighbour and FDB tables), its port state, hairpin when the pod is talking to itself
// through a Service, and the port's MTU.

export function deliverToPod(view: NodeView, bridge: LinkState, input: EgressInput): Egress {
  const { flow, size } = input;
  const base = { kind: 'bridge' as const, title: `bridge ${bridge.name}` };
  const port = view.podPort(flow.dst, bridge);
  if (!port && view.state.weft.allocations.length === 0) {
    // Without host-local's store (no readable CNI config) a quiet pod has no trace in the kernel's tables.
    const evidence = [`bridge ${bridge.name} (MTU ${bridge.mtu})`, `no IPAM store to look ${flow.dst} up in, and no neighbour entry for it: its port is not known`];
    return { hop: { ...base, status: 'deliver', summary: `onto ${bridge.name}; the pod's port is not known`, evidence, mtu: bridge.mtu }, outcome: 'delivered' };
  }
  if (!port) return broken({ ...base, summary: `no pod holds ${flow.dst}`, evidence: [`bridge ${bridge.name} (MTU ${bridge.mtu})`] }, noPod(flow.dst, bridge.name));
  const veth = port.veth;
  const owner = port.containerId ? `container ${port.containerId} (${port.ifname})` : 'a pod';
  const evidence = [
    port.via === 'ipam' ? `${flow.dst} is allocated to ${owner} (host-local)` : `${flow.dst} is behind ${veth?.name} (neighbour and FDB on ${bridge.name})`,
    veth ? `host veth ${veth.name}: port ${veth.bridgePort?.state ?? 'unknown'}, hairpin ${veth.bridgePort?.hairpin ? 'on' : 'off'}, MTU ${veth.mtu}` : `no host veth on ${bridge.name} carries ${owner}'s tag`,
  ];
  const mtu = veth?.mtu ?? bridge.mtu;
  const hop = { ...base, evidence, mtu };
  if (!veth) return broken({ ...hop, summary: `the pod's interface is gone` }, leakedAddress(flow.dst, owner));
  if (!veth.up || (veth.bridgePort && veth.bridgePort.state !== 'forwarding')) return broken({ ...hop, summary: `port ${veth.name} does not forward` }, linkDown(veth.name));
  if (input.ingress?.veth?.name === veth.name && !veth.bridgePort?.hairpin) return broken({ ...hop, summary: 'the pod reaches itself: needs hairpin' }, hairpinOff(veth.name));
  if (size > mtu) return broken({ ...hop, summary: `too big for ${veth.name}` }, tooBig({ size, dev: veth.name, mtu }));
  return { hop: { ...hop, status: 'deliver', summary: `delivered to ${owner} through ${veth.name}` }, outcome: 'delivered' };
}
