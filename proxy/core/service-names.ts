import { createHash } from 'node:crypto';

// Names derived from a Service port, shared by both backends: its per-service chains (iptables
// chains, nftables chains named alike) and its session-affinity lists. iptables limits chain names to
// 28 characters (XT_EXTENSION_MAXNAMELEN 29 including the NUL); each name is a prefix and a
// 16-character hash: "WEFT-SVC-" (9) + 16 = 25, "WEFT-FW-" (8) + 16 = 24, within the budget.

export const CHAIN_NAME_MAX = 28;

/** Per service port: endpoints for Cluster policy, endpoints for Local policy, external entry, LB firewall. */
export type ServiceChainKind = 'SVC' | 'SVL' | 'EXT' | 'FW';

/** Matches the names serviceChainName makes. */
export const SERVICE_CHAIN_NAME = /^WEFT-(?:SVC|SVL|EXT|FW)-[A-Z2-7]{16}$/;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 of the first 80 bits of SHA-256: 16 characters, as kube-proxy derives its names. */
export function shortHash(input: string): string {
  const bytes = createHash('sha256').update(input).digest();
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes.subarray(0, 10)) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

/** What names a service port: `namespace/name:port` and its protocol. */
export interface ServicePortId {
  readonly key: string;
  readonly protocol: string;
}

/** Chain of one kind for a service port; the protocol is hashed too so same-port TCP and UDP differ. */
export function serviceChainName(kind: ServiceChainKind, id: ServicePortId): string {
  return `WEFT-${kind}-${shortHash(`${id.key}/${id.protocol}`)}`;
}

/** The four chain names of a service port, from one hash (the kinds share it). */
export function serviceChainNames(id: ServicePortId): Record<ServiceChainKind, string> {
  const hash = shortHash(`${id.key}/${id.protocol}`);
  return { SVC: `WEFT-SVC-${hash}`, SVL: `WEFT-SVL-${hash}`, EXT: `WEFT-EXT-${hash}`, FW: `WEFT-FW-${hash}` };
}

/** The list remembering which clients were sent to one endpoint (xt_recent names may reach 200 chars; ours are 25). */
export function affinityListName(id: ServicePortId, endpoint: string): string {
  return `WEFT-AFF-${shortHash(`${id.key}/${id.protocol}/${endpoint}`)}`;
}
