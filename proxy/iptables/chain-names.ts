import { SERVICE_CHAIN_NAME } from '../core/service-names.ts';

// The iptables chains the proxy owns: the fixed ones here, one per service port and kind from
// core/service-names.ts.

export const SERVICES_CHAIN = 'WEFT-SERVICES';
export const NODEPORTS_CHAIN = 'WEFT-NODEPORTS';
export const POSTROUTING_CHAIN = 'WEFT-POSTROUTING';
export const HAIRPIN_CHAIN = 'WEFT-HAIRPIN';
export const FORWARD_CHAIN = 'WEFT-FORWARD';

const FIXED_CHAINS = new Set([SERVICES_CHAIN, NODEPORTS_CHAIN, POSTROUTING_CHAIN, HAIRPIN_CHAIN, FORWARD_CHAIN]);

/**
 * Whether the proxy owns a chain. Other weft components keep WEFT- chains in the same tables
 * (weft-bridge's WEFT-MASQ-*, weftd's WEFT-POSTRTG): a sync must never flush or delete those.
 */
export function isProxyChain(name: string): boolean {
  return FIXED_CHAINS.has(name) || SERVICE_CHAIN_NAME.test(name);
}
