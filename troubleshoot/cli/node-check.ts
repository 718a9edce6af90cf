import { countRules } from '../netfilter/iptables-ruleset.ts';
import { hasProxyChains, proxyTable } from '../netfilter/proxy-layout.ts';
import { readNodeState, type NodeState } from '../state/node-state.ts';
import { DEFAULT_PATHS } from '../state/weft-state.ts';
import { stringFlag, UsageError, type ParsedArgs } from './args.ts';

// The node explain and doctor look at, read with the paths their flags give; a node without weft
// (no weftd serving this network namespace, no weft VXLAN device, no subnet file, no weft-proxy
// rules) cannot be explained or checked.

function runsWeft(state: NodeState): string | undefined {
  const { weft, kernel, rulesets } = state;
  const overlay = weft.weftd !== undefined || kernel.links.some((l) => l.kind === 'vxlan' && l.name.startsWith('weft.')) || weft.subnetFile.env !== undefined;
  const proxy = weft.proxy !== undefined || rulesets.nftables.some((t) => `${t.family} ${t.name}` === proxyTable()) || hasProxyChains(rulesets.iptablesNft) || (countRules(rulesets.iptablesLegacy) > 0 && hasProxyChains(rulesets.iptablesLegacy));
  if (overlay || proxy) return undefined;
  return `weft does not run here (no weftd in this network namespace, no weft.* VXLAN device, no subnet file at "${weft.subnetFile.path}", no weft-proxy rules)`;
}

/** Reads this node for `weft explain` or `weft doctor`; UsageError when weft does not run here. */
export async function readWeftNode(args: ParsedArgs, action: 'explain on' | 'check'): Promise<NodeState> {
  const subnetFile = stringFlag(args, 'subnet-file');
  const paths = { cniConfDir: stringFlag(args, 'cni-conf-dir') ?? DEFAULT_PATHS.cniConfDir, cniBinDir: stringFlag(args, 'cni-bin-dir') ?? DEFAULT_PATHS.cniBinDir, ...(subnetFile ? { subnetFile } : {}) };
  const state = await readNodeState(paths, { leases: true });
  const missing = runsWeft(state);
  if (missing) throw new UsageError(`cannot ${action} this node: ${missing}`);
  return state;
}
