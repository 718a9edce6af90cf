// What a node's proxy is told on its command line; everything the renderer needs besides the objects.

export interface ProxyConfig {
  /** This node's name: endpoints with this nodeName are local. */
  readonly hostname: string;
  /** Pod addresses; traffic to a ClusterIP from outside it is masqueraded. */
  readonly clusterCidr: string;
  /** The packet mark that asks POSTROUTING to masquerade (1 << --masquerade-bit). */
  readonly masqueradeMark: number;
  /** Destination CIDRs that accept NodePorts; empty means every local address. */
  readonly nodePortAddresses: readonly string[];
}

export const DEFAULT_MASQUERADE_BIT = 14;

export function masqueradeMarkFromBit(bit: number): number {
  if (!Number.isInteger(bit) || bit < 0 || bit > 31) throw new Error(`cannot use masquerade bit: "${bit}" is not 0-31`);
  return 2 ** bit;
}

/** The mark as iptables prints it, for example 0x4000. */
export function formatMark(mark: number): string {
  return `0x${mark.toString(16)}`;
}

/** `--nodeport-addresses`, with `primary` standing for this Node's own addresses (none while the Node is unknown). */
export function resolveNodePortAddresses(flags: readonly string[], nodeAddresses: readonly string[]): string[] {
  return flags.flatMap((a) => (a === 'primary' ? nodeAddresses.map((ip) => `${ip}/32`) : [a]));
}
