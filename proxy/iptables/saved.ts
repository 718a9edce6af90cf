import { HAIRPIN_CHAIN, isProxyChain } from '../chain-names.ts';
import type { Rule, Table } from './rules.ts';

// What `iptables-save` says is in the kernel now, read once per sync: the rules (with their table),
// the proxy's own WEFT- chains, and the endpoint addresses the hairpin chain already covers.

export interface SavedRules {
  readonly rules: readonly Rule[];
  readonly chains: Readonly<Record<Table, ReadonlySet<string>>>;
}

export function parseSaved(saveText: string): SavedRules {
  const rules: Rule[] = [];
  const chains: Record<Table, Set<string>> = { nat: new Set(), filter: new Set() };
  let table = '';
  for (const line of saveText.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    if (table !== 'nat' && table !== 'filter') continue;
    const declared = /^:(WEFT-\S+) /.exec(line);
    if (declared && isProxyChain(declared[1] as string)) chains[table].add(declared[1] as string);
    const appended = /^-A (\S+) (.*)$/.exec(line);
    if (appended) rules.push({ table, chain: appended[1] as string, spec: appended[2] as string });
  }
  return { rules, chains };
}

/** Endpoint addresses with a hairpin rule (`-s IP/32 -d IP/32`) in nat WEFT-HAIRPIN. */
export function hairpinAddresses(saved: SavedRules): Set<string> {
  const ips = new Set<string>();
  for (const r of saved.rules) {
    const m = r.table === 'nat' && r.chain === HAIRPIN_CHAIN ? /-s (\S+)\/32 -d \1\/32/.exec(r.spec) : null;
    if (m) ips.add(m[1] as string);
  }
  return ips;
}
