import { isProxyChain } from '../../proxy/iptables/chain-names.ts';
import { groupDestinationProtocol } from '../../proxy/nftables/groups.ts';
import { TABLE as PROXY_TABLE } from '../../proxy/nftables/table.ts';
import type { RuleHit } from './flow.ts';
import type { IptablesRuleset } from './iptables-ruleset.ts';

// The only knowledge of weft-proxy's layout the troubleshooting code uses: which chains and which
// table are the proxy's (to tell its "no endpoints" verdicts from anyone else's drops), and how its
// rule comments and nft element comments name a Service port, and which protocol a group's keys
// leave out. Everything else comes from the rulesets the kernel lists.

export { groupDestinationProtocol, isProxyChain };

export function isProxyRule(hit: RuleHit): boolean {
  return hit.engine === 'nftables' ? hit.table === PROXY_TABLE : isProxyChain(hit.chain);
}

export function proxyTable(): string {
  return PROXY_TABLE;
}

/** The Service a proxy rule's comment names ("WEFT-SERVICES default/web:http cluster IP: ..." -> "default/web:http"). */
export function serviceOfRule(rule: string): string | undefined {
  return /--comment "?WEFT-[A-Z]+ ([a-z0-9.-]+\/[a-z0-9.-]+:[a-z0-9-]*)/.exec(rule)?.[1];
}

/** The Service an element of the proxy's nft table names in its comment ("default/web:http"); others' comments name none. */
export function serviceOfElement(table: string, comment: string | undefined): string | undefined {
  return table === PROXY_TABLE && comment !== undefined && /^[a-z0-9.-]+\/[a-z0-9.-]+:[a-z0-9-]*$/.test(comment) ? comment : undefined;
}

/** Whether weft-proxy's iptables chains are in a ruleset. */
export function hasProxyChains(ruleset: IptablesRuleset): boolean {
  return [...ruleset.values()].some((chains) => [...chains.keys()].some(isProxyChain));
}
