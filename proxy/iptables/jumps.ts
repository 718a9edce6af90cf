import { FORWARD_CHAIN, POSTROUTING_CHAIN, SERVICES_CHAIN } from './chain-names.ts';
import { comment, rule, type Rule, type Table } from './rules.ts';
import type { SavedRules } from './saved.ts';

// The jumps from the built-in chains into ours. They live in chains other software also writes, so
// they are never flushed: a sync inserts only those missing from what iptables-save printed.

const NEW = '-m conntrack --ctstate NEW';

export function builtinJumps(): Rule[] {
  const jump = (table: Table, chain: string, target: string, text: string, ...match: string[]) => rule(table, chain, comment(target, text), ...match, `-j ${target}`);
  return [
    jump('nat', 'PREROUTING', SERVICES_CHAIN, 'service portals'),
    jump('nat', 'OUTPUT', SERVICES_CHAIN, 'service portals'),
    jump('nat', 'POSTROUTING', POSTROUTING_CHAIN, 'service masquerade'),
    jump('filter', 'INPUT', SERVICES_CHAIN, 'service verdicts', NEW),
    jump('filter', 'FORWARD', SERVICES_CHAIN, 'service verdicts', NEW),
    jump('filter', 'OUTPUT', SERVICES_CHAIN, 'service verdicts', NEW),
    jump('filter', 'FORWARD', FORWARD_CHAIN, 'service forwarding'),
  ];
}

function target(spec: string): string | undefined {
  return / -j (\S+)/.exec(` ${spec}`)?.[1];
}

/** The jumps not already present, matched on table, chain and target (comments and match order may differ). */
export function missingJumps(required: readonly Rule[], saved: SavedRules): Rule[] {
  const present = new Set(saved.rules.map((r) => `${r.table} ${r.chain} ${target(r.spec)}`));
  return required.filter((r) => !present.has(`${r.table} ${r.chain} ${target(r.spec)}`));
}
