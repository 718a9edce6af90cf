import type { Hop } from '../model/explanation.ts';
import { formatRoute, lookupRoute } from './routing.ts';
import type { NodeView, PodPort } from './node-view.ts';

// Where the packet comes from, seen from this node: the node itself (its own address), a pod on one
// of its bridges, or anything else arriving on the interface the route back to the source uses (or
// the one `--in` names, when explaining the next node of a path).

export interface Ingress {
  readonly origin: 'node' | 'pod' | 'remote';
  readonly iif?: string;
  readonly port?: PodPort;
  readonly hop: Hop;
  /** The default packet size: the largest the source's interface sends. */
  readonly size: number;
}

export function classifySource(view: NodeView, src: string, options: { dst: string; in?: string }): Ingress {
  const title = 'source';
  if (view.facts.isLocal(src) && options.in === undefined) {
    const owner = view.kernel.links.find((l) => l.addresses.some((a) => a.ip === src));
    const out = lookupRoute(view.kernel, { dst: options.dst, src });
    const size = view.link(out.dev)?.mtu ?? owner?.mtu ?? 1500;
    const hop: Hop = { kind: 'source', title, status: 'pass', summary: `the node itself (${src}${owner ? `, an address of ${owner.name}` : ''})`, evidence: [`locally generated: the OUTPUT hooks run, then routing`] };
    return { origin: 'node', hop, size };
  }
  const bridge = options.in === undefined ? view.bridgeFor(src) : view.link(options.in)?.kind === 'bridge' ? view.link(options.in) : undefined;
  if (bridge) {
    const port = view.podPort(src, bridge);
    const size = port?.veth?.mtu ?? bridge.mtu;
    const evidence = port
      ? [
          port.via === 'ipam' ? `${src} is allocated to container ${port.containerId} (${port.ifname}) by host-local` : `${src} is behind ${port.veth?.name} (neighbour and FDB on ${bridge.name})`,
          port.veth ? `host veth ${port.veth.name} on ${bridge.name}: port ${port.veth.bridgePort?.state ?? 'unknown'}, hairpin ${port.veth.bridgePort?.hairpin ? 'on' : 'off'}, MTU ${port.veth.mtu}` : `no host veth on ${bridge.name} carries its tag`,
        ]
      : [`no pod on ${bridge.name} is known to hold ${src}: followed as if it were there`];
    const hop: Hop = { kind: 'source', title, status: 'pass', summary: `pod ${src} on ${bridge.name}`, evidence };
    return { origin: 'pod', iif: bridge.name, ...(port ? { port } : {}), hop, size };
  }
  const back = lookupRoute(view.kernel, { dst: src });
  const iif = options.in ?? back.dev;
  const link = view.link(iif);
  const evidence = options.in !== undefined ? [`arrives on ${options.in} (--in)`] : back.route ? [`the route back to ${src} is ${formatRoute(back.route)}: it arrives on ${iif}`] : [`no route back to ${src}: the interface it arrives on is unknown`];
  const hop: Hop = { kind: 'source', title, status: 'pass', summary: `${src} arriving on ${iif ?? 'an unknown interface'}`, evidence };
  return { origin: 'remote', ...(iif ? { iif } : {}), hop, size: link?.mtu ?? 1500 };
}
