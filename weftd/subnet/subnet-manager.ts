import type { Ipv4Cidr } from '../../lib/ip.ts';
import type { Lease } from './lease.ts';
import type { NetworkConfig } from './network-config.ts';

// Where leases come from, kept apart from how the fabric is programmed (flannel's split): etcd, or
// Kubernetes Node objects (subnet from spec.podCIDR, backend data in node annotations).

export interface LeaseAttributes {
  publicIp: string;
  vni: number;
  vtepMac: string;
}

export interface SubnetManager {
  /** Waits until the network config can be read; throws NetworkConfigError when it is unusable. */
  getNetworkConfig(signal: AbortSignal): Promise<NetworkConfig>;
  /**
   * Takes this node's previous subnet when it still holds one, else `preferred` when free, else any
   * free one; retries (etcd down, races lost) until it succeeds or `signal` aborts.
   */
  acquireLease(config: NetworkConfig, attributes: LeaseAttributes, signal: AbortSignal, preferred?: Ipv4Cidr): Promise<Lease>;
  /** Extends the lease; throws LeaseLostError when it is gone (expired or deleted). */
  renewLease(lease: Lease): Promise<void>;
  /**
   * Calls `onLeases` with every node's lease (this node's included) after each change, until `signal`
   * aborts; lists again after a reconnect or a compaction, so a missed event is never lost.
   */
  watchLeases(signal: AbortSignal, onLeases: (leases: ReadonlyMap<string, Lease>) => Promise<void>): Promise<void>;
  /**
   * Says the node's fabric is programmed and its pods reachable, where the lease store has a place
   * for it (a Node's NetworkUnavailable condition); called until it succeeds once.
   */
  announceReady?(): Promise<void>;
}

export class LeaseLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseLostError';
  }
}

/** The node this weftd serves no longer exists (its Node object was deleted): nothing is left to lease for. */
export class NodeGoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeGoneError';
  }
}
