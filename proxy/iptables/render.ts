import { FORWARD_CHAIN, HAIRPIN_CHAIN, NODEPORTS_CHAIN, POSTROUTING_CHAIN, SERVICES_CHAIN } from '../chain-names.ts';
import type { ProxyConfig } from '../config.ts';
import type { ProxyState } from '../state.ts';
import { builtinJumps } from './jumps.ts';
import { renderNodePort, renderNodePortsEntry, renderServiceEntry } from './render-dispatch.ts';
import { renderEndpointChain } from './render-endpoints.ts';
import { renderExternalChain, renderFirewallChain } from './render-external.ts';
import { renderForward, renderServiceVerdicts } from './render-filter.ts';
import { renderHairpin, renderMasquerade } from './render-masquerade.ts';
import { planServicePort, type ServicePlan } from './service-plan.ts';
import { formatRule, type Rule, type Table } from './rules.ts';

// Assembles the rule families into one iptables-restore payload for `--noflush`. A declared chain
// (`:NAME - [0:0]`) is created or flushed, so a full sync declares every chain; a partial sync
// declares only the dispatch chains (rewritten whole each time) and the chains of changed Services,
// leaving the others untouched. Stale chains are flushed and deleted (-X) once no rule jumps to them.

export interface RenderOptions {
  /** `namespace/name` of Services whose chains changed; undefined renders a full sync. */
  readonly changedServices?: ReadonlySet<string>;
  /** WEFT- chains present in the kernel now; those no longer wanted are deleted. */
  readonly existingChains?: Readonly<Record<Table, ReadonlySet<string>>>;
  /**
   * Endpoint addresses the kernel's hairpin chain covers now. With it a partial sync only appends
   * rules for new addresses instead of rewriting the chain: it holds one rule per endpoint of the
   * cluster, and rewriting 10,000 of them was 80% of a one-Service partial sync; deleting single
   * rules (-D) makes iptables-nft read the whole table (2 s at 10k Services; both measured).
   */
  readonly currentHairpin?: ReadonlySet<string>;
  /** The rules of each dispatch chain as last applied (`table chain` -> rule lines); an unchanged chain is not rewritten. */
  readonly currentDispatch?: ReadonlyMap<string, string>;
  /** Jumps from built-in chains to add (the apply layer passes only the missing ones); default all, for a clean node. */
  readonly jumps?: readonly Rule[];
}

export interface Chain {
  readonly table: Table;
  readonly name: string;
}

function serviceChainRules(plan: ServicePlan, config: ProxyConfig): Rule[] {
  const { sp } = plan;
  const masq = { clusterCidr: config.clusterCidr, mark: config.masqueradeMark };
  const endpointChain = (chain: string) =>
    renderEndpointChain(chain, { sp, endpoints: chain === plan.svc ? sp.clusterEndpoints : sp.localEndpoints }, plan.internalTarget === chain ? { masqueradeOffCluster: masq } : {});
  return [...plan.chains.filter((c) => c === plan.svc || c === plan.svl).flatMap(endpointChain), ...renderExternalChain(plan, masq), ...renderFirewallChain(plan)];
}

function dispatchRules(plans: readonly ServicePlan[], config: ProxyConfig): Rule[] {
  return [
    ...plans.flatMap(renderServiceEntry),
    ...renderNodePortsEntry(config.nodePortAddresses),
    ...plans.flatMap(renderNodePort),
    ...plans.flatMap((p) => renderServiceVerdicts(p, config.nodePortAddresses)),
  ];
}

/**
 * The hairpin chain whole (full sync), or only the rules for addresses it lacks (partial sync). A rule
 * left for an address that is no endpoint any more never matches: the chain sees only DNAT'd
 * connections, and nothing is DNAT'd to a non-endpoint. The next full sync drops such rules.
 */
function hairpinChanges(state: ProxyState, current: ReadonlySet<string> | undefined): { rewrite: boolean; add: Rule[] } {
  const wanted = new Set(state.servicePorts.flatMap((sp) => sp.clusterEndpoints.map((e) => e.ip)));
  if (current === undefined) return { rewrite: true, add: renderHairpin([...wanted]) };
  return { rewrite: false, add: renderHairpin([...wanted].filter((ip) => !current.has(ip))) };
}

export function chainKey(chain: Chain): string {
  return `${chain.table} ${chain.name}`;
}

/** The dispatch chains whose rules differ from what was applied last (all of them without a record). */
function changedDispatch(rules: readonly Rule[], current: ReadonlyMap<string, string> | undefined): Chain[] {
  return DISPATCH_CHAINS.filter((chain) => current?.get(chainKey(chain)) !== dispatchText(chain, rules));
}

/** The rule lines of one chain as a restore payload writes them. */
export function dispatchText(chain: Chain, rules: readonly Rule[]): string {
  return rules
    .filter((r) => r.table === chain.table && r.chain === chain.name)
    .map(formatRule)
    .join('\n');
}

export const DISPATCH_CHAINS: readonly Chain[] = [
  { table: 'nat', name: SERVICES_CHAIN },
  { table: 'nat', name: NODEPORTS_CHAIN },
  { table: 'filter', name: SERVICES_CHAIN },
];
const HAIRPIN: Chain = { table: 'nat', name: HAIRPIN_CHAIN };
const STATIC_CHAINS: readonly Chain[] = [
  { table: 'nat', name: POSTROUTING_CHAIN },
  { table: 'filter', name: FORWARD_CHAIN },
];

export function renderIptables(state: ProxyState, config: ProxyConfig, options: RenderOptions = {}): string {
  const plans = state.servicePorts.map(planServicePort);
  const full = options.changedServices === undefined;
  // A Service whose chains are missing (new, or lost) is rewritten even if not reported as changed.
  const missing = (p: ServicePlan) => options.existingChains !== undefined && p.chains.some((c) => !options.existingChains?.nat.has(c));
  const rewritten = full ? plans : plans.filter((p) => options.changedServices?.has(p.sp.service) || missing(p));
  const hairpin = hairpinChanges(state, full ? undefined : options.currentHairpin);
  const dispatch = dispatchRules(plans, config);
  const dispatchChains = full ? DISPATCH_CHAINS : changedDispatch(dispatch, options.currentDispatch);
  const rewrittenDispatch = new Set(dispatchChains.map(chainKey));
  const chains: Chain[] = [
    ...(full ? STATIC_CHAINS : []),
    ...dispatchChains,
    ...(hairpin.rewrite ? [HAIRPIN] : []),
    ...rewritten.flatMap((p) => p.chains.map((name): Chain => ({ table: 'nat', name }))),
  ];
  const rules = [
    ...(full ? [...renderMasquerade(config.masqueradeMark), ...renderForward(config.masqueradeMark)] : []),
    ...dispatch.filter((r) => rewrittenDispatch.has(chainKey({ table: r.table, name: r.chain }))),
    ...hairpin.add,
    ...rewritten.flatMap((p) => serviceChainRules(p, config)),
  ];
  const wanted = new Set([...DISPATCH_CHAINS, HAIRPIN, ...STATIC_CHAINS, ...plans.flatMap((p) => p.chains.map((name): Chain => ({ table: 'nat', name })))].map((c) => `${c.table} ${c.name}`));
  const stale = (['nat', 'filter'] as const).flatMap((table) => [...(options.existingChains?.[table] ?? [])].filter((name) => !wanted.has(`${table} ${name}`)).map((name): Chain => ({ table, name })));
  return restoreText([...chains, ...stale], rules, { stale, jumps: options.jumps ?? builtinJumps() });
}

/** One `*table ... COMMIT` block per table: declarations, rules, inserted jumps, then chain deletions. */
export function restoreText(chains: readonly Chain[], rules: readonly Rule[], options: { stale: readonly Chain[]; jumps: readonly Rule[] }): string {
  const lines: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    lines.push(`*${table}`);
    for (const c of chains) if (c.table === table) lines.push(`:${c.name} - [0:0]`);
    for (const r of rules) if (r.table === table) lines.push(formatRule(r));
    // -I puts a rule first; inserting in reverse keeps the listed order among our jumps.
    for (const j of [...options.jumps].reverse()) if (j.table === table) lines.push(`-I ${j.chain} ${j.spec}`);
    for (const c of options.stale) if (c.table === table) lines.push(`-X ${c.name}`);
    lines.push('COMMIT');
  }
  return `${lines.join('\n')}\n`;
}
