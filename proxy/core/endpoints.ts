import { parseIpv4 } from '../../lib/ip.ts';
import type { EndpointSlice, ServicePort, SliceEndpoint } from './objects.ts';

// Which endpoints a Service port sends traffic to, as kube-proxy chooses them: ready endpoints, or
// when none is ready the serving+terminating ones (so a rolling update does not drop connections);
// "local" is the same choice restricted to this node, for the Local traffic policies.

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
  /** The node it runs on, when the slice says. */
  readonly nodeName?: string;
}

export interface EndpointChoice {
  readonly cluster: readonly Endpoint[];
  readonly local: readonly Endpoint[];
}

interface Candidate {
  readonly endpoint: SliceEndpoint;
  readonly port: number;
  /** The address as a number, for sorting. */
  readonly order: number;
}

function choose(candidates: readonly Candidate[]): Endpoint[] {
  const ready = candidates.filter((c) => c.endpoint.ready);
  const chosen = ready.length > 0 ? ready : candidates.filter((c) => c.endpoint.serving && c.endpoint.terminating);
  return chosen.map(({ endpoint: { ip, nodeName }, port }) => (nodeName === undefined ? { ip, port } : { ip, port, nodeName }));
}

/** The endpoints of `port` among the slices of its Service, sorted by address and port. */
export function selectEndpoints(port: ServicePort, slices: readonly EndpointSlice[], hostname: string): EndpointChoice {
  const all: Candidate[] = [];
  for (const slice of slices) {
    const slicePort = slice.ports.find((p) => p.name === port.name && p.protocol === port.protocol);
    if (!slicePort) continue;
    for (const endpoint of slice.endpoints) all.push({ endpoint, port: slicePort.port, order: parseIpv4(endpoint.ip) ?? 0 });
  }
  // Sorting is stable: the same endpoint listed twice (two slices while the controller moves it)
  // ends up adjacent, and the first one seen is kept.
  all.sort((a, b) => a.order - b.order || a.port - b.port);
  const candidates = all.filter((c, i) => i === 0 || c.order !== all[i - 1]?.order || c.port !== all[i - 1]?.port);
  const local = candidates.filter((c) => c.endpoint.nodeName === hostname);
  return { cluster: choose(candidates), local: local.length > 0 ? choose(local) : [] };
}

/**
 * Whether an endpoint may reach itself through its Service on this node, which needs masquerading
 * (hairpin): only a pod of this node sends its traffic through this node's rules, so endpoints known
 * to run elsewhere never do; one whose node is not said might be here.
 */
export function mayHairpin(e: Endpoint, hostname: string): boolean {
  return e.nodeName === undefined || e.nodeName === hostname;
}
