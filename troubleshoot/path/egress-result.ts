import type { Cause, Handoff, Hop, Outcome, Packet } from '../model/explanation.ts';
import type { Flow } from '../netfilter/flow.ts';
import type { PodPort } from './node-view.ts';

// How the last hop on this node ends, shared by the bridge, overlay and uplink hops.

export interface Egress {
  readonly hop: Hop;
  readonly outcome: Outcome;
  readonly cause?: Cause;
  readonly handoff?: Handoff;
}

export interface EgressInput {
  readonly flow: Flow;
  readonly size: number;
  /** The bridge port the packet came in on, for a pod source (hairpin). */
  readonly ingress?: PodPort;
  /** The route's next hop, when it has a gateway. */
  readonly gateway?: string;
}

export function packetOf(flow: Flow, size: number): Packet {
  return { src: flow.src, dst: flow.dst, ...(flow.dport !== undefined ? { dport: flow.dport } : {}), proto: flow.proto, size };
}

export function broken(hop: Omit<Hop, 'status' | 'cause'>, cause: Cause, status: 'drop' | 'reject' = 'drop'): Egress {
  return { hop: { ...hop, status, cause }, outcome: status === 'drop' ? 'dropped' : 'rejected', cause };
}

