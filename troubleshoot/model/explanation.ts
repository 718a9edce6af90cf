import type { Hook } from '../netfilter/flow.ts';
import type { Protocol } from './target.ts';

// What `weft explain` answers: the packet's path through one node, hop by hop, each hop with the
// evidence that decided it, and a verdict naming the first thing that breaks the path. One model for
// both proxy modes and the overlay; the JSON output is this structure.

export interface Packet {
  readonly src: string;
  readonly dst: string;
  readonly dport?: number;
  readonly proto: Protocol;
  /** IP packet length in bytes, checked against every device's MTU. */
  readonly size: number;
}

/** Why a path breaks, named so a script (and a test) can tell causes apart. */
export type CauseCode =
  | 'no-endpoints'
  | 'service-drop'
  | 'drop-rule'
  | 'reject-rule'
  | 'iptables-backends'
  | 'no-route'
  | 'forwarding-off'
  | 'rp-filter'
  | 'no-neighbour'
  | 'no-fdb'
  | 'stale-fdb'
  | 'mtu'
  | 'hairpin-off'
  | 'br-netfilter-off'
  | 'no-pod'
  | 'leaked-address'
  | 'missing-proxy-rule'
  | 'link-down';

export interface Cause {
  readonly code: CauseCode;
  readonly message: string;
  readonly fix?: string;
}

export type HopKind = 'source' | 'netfilter' | 'service' | 'route' | 'bridge' | 'overlay' | 'uplink' | 'local';
export type HopStatus = 'pass' | 'drop' | 'reject' | 'deliver' | 'leave';

export interface Hop {
  readonly kind: HopKind;
  readonly title: string;
  readonly status: HopStatus;
  readonly summary: string;
  readonly evidence: readonly string[];
  /** The MTU of the device this hop sends through. */
  readonly mtu?: number;
  readonly cause?: Cause;
}

/** Where the packet goes on after this node: the next node to explain it on, and the device it arrives on. */
export interface Handoff {
  readonly node: string;
  /** The device it arrives on there, when known (the VXLAN device of the same VNI). */
  readonly device?: string;
  readonly packet: Packet;
}

export type Outcome = 'delivered' | 'leaves' | 'dropped' | 'rejected';

/** One way the packet may go (a Service picks among endpoints): the hops after the fork and how it ends. */
export interface PathBranch {
  /** Destination after NAT, "10.244.1.5:8080". */
  readonly to: string;
  readonly probability: number;
  /** The netfilter hooks the packet passes on this node, in order (what --probe compares with the kernel's trace). */
  readonly hooks: readonly Hook[];
  /** The device it leaves through and its source address then (after masquerade), when it gets that far. */
  readonly exit?: { readonly oif?: string; readonly src: string };
  readonly hops: readonly Hop[];
  readonly outcome: Outcome;
  readonly cause?: Cause;
  readonly handoff?: Handoff;
}

export interface Explanation {
  readonly packet: Packet;
  readonly node: string;
  /** Where the packet comes from: the node itself, a pod on one of its bridges (and its host veth), or elsewhere. */
  readonly source: { readonly origin: 'node' | 'pod' | 'remote'; readonly iif?: string; readonly veth?: string };
  readonly proxyMode: 'iptables' | 'nftables' | 'none';
  /** Hops every branch shares (source, the hooks before a Service's choice). */
  readonly hops: readonly Hop[];
  readonly branches: readonly PathBranch[];
  readonly verdict: { readonly kind: 'delivered' | 'partly' | 'dropped'; readonly summary: string; readonly causes: readonly Cause[] };
  /** What could not be decided for certain (rules not evaluated, affinity, unreadable state). */
  readonly notes: readonly string[];
}
