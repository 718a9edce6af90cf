import { countRules } from '../netfilter/iptables-ruleset.ts';
import { countNftRules } from '../netfilter/nftables-ruleset.ts';
import { formatProbability, type Branch, type Hook, type Outcome, type RuleHit } from '../netfilter/flow.ts';
import type { Hop } from '../model/explanation.ts';
import { ruleCause } from './causes.ts';
import type { NodeView } from './node-view.ts';

// Hops for what the netfilter hooks did: a drop or reject names its rule and cause; DNAT becomes the
// Service hop listing every endpoint the rules may choose; anything else that changed the packet
// (a mark, masquerade) is shown on the hook it happened in.

const HOOK_NAMES: Record<Hook, string> = { prerouting: 'PREROUTING', input: 'INPUT', forward: 'FORWARD', output: 'OUTPUT', postrouting: 'POSTROUTING' };

function formatHit(hit: RuleHit): string {
  return `${hit.engine} ${hit.table} ${hit.chain}: ${hit.action} <- ${hit.rule}`;
}

function endpoint(branch: Branch): string {
  const { flow } = branch;
  return `${flow.dst}${flow.dport !== undefined ? `:${flow.dport}` : ''}`;
}

export function stoppedHop(view: NodeView, hook: Hook, outcome: Outcome): Hop {
  const by = outcome.by;
  const end = outcome.end === 'reject' ? 'reject' : 'drop';
  const rulesets = view.state.rulesets;
  const cause = by
    ? ruleCause(by, end, { legacyRules: countRules(rulesets.iptablesLegacy), nftRules: countRules(rulesets.iptablesNft) + countNftRules(rulesets.nftables) })
    : { code: 'drop-rule' as const, message: `dropped in ${HOOK_NAMES[hook]}` };
  return {
    kind: 'netfilter',
    title: `${HOOK_NAMES[hook]}${by ? ` (${by.engine} ${by.table} ${by.chain})` : ''}`,
    status: end,
    summary: `${end === 'reject' ? 'rejected' : 'dropped'}${by ? ` by ${by.action === 'policy DROP' || by.action === 'policy drop' ? `the ${by.chain} policy` : 'a rule'}` : ''}`,
    evidence: outcome.branch.hits.map(formatHit),
    cause,
  };
}

/** The Service hop: the DNAT rules that matched and every endpoint they may pick, with its probability. */
export function serviceHop(hook: Hook, accepted: readonly Branch[], before: number): Hop | undefined {
  const translated = accepted.filter((b) => b.flow.dnat);
  if (translated.length === 0) return undefined;
  const hits = new Map<string, RuleHit>();
  for (const b of translated) for (const hit of b.hits.slice(before)) hits.set(`${hit.engine} ${hit.table} ${hit.chain} ${hit.rule} ${hit.action}`, hit);
  const byEndpoint = new Map<string, number>();
  for (const b of translated) byEndpoint.set(endpoint(b), (byEndpoint.get(endpoint(b)) ?? 0) + b.probability);
  const service = [...hits.values()].find((h) => h.service !== undefined)?.service;
  const choices = [...byEndpoint].map(([to, p]) => `${to}${formatProbability(p)}`);
  const untranslated = accepted.filter((b) => !b.flow.dnat).reduce((sum, b) => sum + b.probability, 0);
  return {
    kind: 'service',
    title: `${HOOK_NAMES[hook]} DNAT${service ? ` (${service})` : ''}`,
    status: 'pass',
    summary: `${byEndpoint.size === 1 ? 'to' : `one of ${byEndpoint.size} endpoints:`} ${choices.join(', ')}${untranslated > 0 ? `; not translated${formatProbability(untranslated)}` : ''}`,
    evidence: [...hits.values()].map(formatHit),
  };
}

/** A hook that passed the packet but changed it (mark, source NAT): worth a hop of its own. */
export function changedHop(hook: Hook, branch: Branch, before: number): Hop | undefined {
  const hits = branch.hits.slice(before).filter((h) => !/^(jump|goto|accept|ACCEPT)\b/.test(h.action));
  if (hits.length === 0) return undefined;
  const masquerade = hits.find((h) => h.action.startsWith('masquerade') || h.action.startsWith('SNAT'));
  return {
    kind: 'netfilter',
    title: HOOK_NAMES[hook],
    status: 'pass',
    summary: masquerade ? `source translated: ${masquerade.action}` : hits.map((h) => h.action).join(', '),
    evidence: branch.hits.slice(before).map(formatHit),
  };
}
