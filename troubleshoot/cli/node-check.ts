import { countRules } from '../netfilter/iptables-ruleset.ts';
import { hasProxyChains, proxyTable } from '../netfilter/proxy-layout.ts';
import type { NodeState } from '../state/node-state.ts';

// A node without weft cannot be explained or checked: no weftd serving this network namespace, no
// weft VXLAN device, no subnet file, no weft-proxy rules. Returns why, or undefined when weft is here.

export function runsWeft(state: NodeState): string | undefined {
  const { weft, kernel, rulesets } = state;
  const overlay = weft.weftd !== undefined || kernel.links.some((l) => l.kind === 'vxlan' && l.name.startsWith('weft.')) || weft.subnetFile.env !== undefined;
  const proxy = weft.proxy !== undefined || rulesets.nftables.some((t) => `${t.family} ${t.name}` === proxyTable()) || hasProxyChains(rulesets.iptablesNft) || (countRules(rulesets.iptablesLegacy) > 0 && hasProxyChains(rulesets.iptablesLegacy));
  if (overlay || proxy) return undefined;
  return `weft does not run here (no weftd in this network namespace, no weft.* VXLAN device, no subnet file at "${weft.subnetFile.path}", no weft-proxy rules)`;
}
