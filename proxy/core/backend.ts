import type { ProxyConfig } from './config.ts';
import type { ServicePortState } from './state.ts';

// What a packet-filter backend (proxy/iptables, proxy/nftables) offers the proxy core: a full sync,
// a partial sync of the Services that changed, and the removal of everything it owns. Each backend
// reaches the kernel only through an interface injected when it is made, so unit tests can record
// what it writes.

export type ProxyMode = 'iptables' | 'nftables';

/** One changed Service: its ports as the kernel holds them, and as they should be. */
export interface ServiceDiff {
  /** `namespace/name`. */
  readonly service: string;
  readonly before: readonly ServicePortState[];
  readonly after: readonly ServicePortState[];
}

export interface BackendResult {
  /** Rules written, by table (iptables: nat and filter; nftables: rules and elements as "weft"). */
  readonly written: Readonly<Record<string, number>>;
  /**
   * What was applied as text, in order: one transaction (a fresh nftables load: several, without the
   * elements it sent as netlink batches); empty when nothing needed writing.
   */
  readonly payload: string;
  /** Time spent waiting on the kernel's tools (reading and writing rules), of a full sync. */
  readonly kernelMs?: number;
}

export interface Backend {
  readonly mode: ProxyMode;
  /** Replaces everything this mode owns with the rules for `servicePorts`: traffic sees the old rules or the new ones, never a mix. */
  fullSync(servicePorts: readonly ServicePortState[], config: ProxyConfig): Promise<BackendResult>;
  /**
   * Writes only what `diffs` change, on top of what this backend applied last, in one transaction;
   * undefined (and nothing written) when only a full sync can express it. Called only after a full
   * sync with the same config succeeded, and never after a failure until the next full sync.
   */
  partialSync(diffs: readonly ServiceDiff[], config: ProxyConfig): Promise<BackendResult | undefined>;
  /** Removes every rule, chain, set and table this mode owns; true when there was something to remove. */
  cleanup(): Promise<boolean>;
  /** Ends whatever it keeps running (the daemon is stopping); the rules stay. */
  close(): void;
}
