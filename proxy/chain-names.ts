import { createHash } from 'node:crypto';

// Every chain and recent-list name the proxy uses. iptables limits chain names to 28 characters
// (XT_EXTENSION_MAXNAMELEN 29 including the NUL); per-service names are PREFIX + a 16-character hash:
// "WEFT-SVC-" (9) + 16 = 25, "WEFT-FW-" (8) + 16 = 24, both within the budget.

export const CHAIN_NAME_MAX = 28;

export const SERVICES_CHAIN = 'WEFT-SERVICES';
export const NODEPORTS_CHAIN = 'WEFT-NODEPORTS';
export const POSTROUTING_CHAIN = 'WEFT-POSTROUTING';
export const HAIRPIN_CHAIN = 'WEFT-HAIRPIN';
export const FORWARD_CHAIN = 'WEFT-FORWARD';

/** Per service port: endpoints for Cluster policy, endpoints for Local policy, external entry, LB firewall. */
export type ServiceChainKind = 'SVC' | 'SVL' | 'EXT' | 'FW';

const FIXED_CHAINS = new Set([SERVICES_CHAIN, NODEPORTS_CHAIN, POSTROUTING_CHAIN, HAIRPIN_CHAIN, FORWARD_CHAIN]);
const SERVICE_CHAIN = /^WEFT-(?:SVC|SVL|EXT|FW)-[A-Z2-7]{16}$/;

/**
 * Whether the proxy owns a chain. Other weft components keep WEFT- chains in the same tables
 * (weft-bridge's WEFT-MASQ-*, weftd's WEFT-POSTRTG): a sync must never flush or delete those.
 */
export function isProxyChain(name: string): boolean {
  return FIXED_CHAINS.has(name) || SERVICE_CHAIN.test(name);
}

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

/** The xt_recent list remembering which clients were sent to one endpoint (names may reach 200 chars; ours are 25). */
export function affinityListName(id: ServicePortId, endpoint: string): string {
  return `WEFT-AFF-${shortHash(`${id.key}/${id.protocol}/${endpoint}`)}`;
}
