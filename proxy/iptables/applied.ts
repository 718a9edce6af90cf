import { HAIRPIN_CHAIN } from '../chain-names.ts';
import { chainKey, DISPATCH_CHAINS, dispatchText } from './render.ts';
import type { Table } from './rules.ts';
import { hairpinAddresses, parseSaved, type SavedRules } from './saved.ts';

// What the kernel holds after our restores, kept in memory between full syncs so a partial sync does
// not need iptables-save (the biggest partial-sync cost, measured): the WEFT- chains, the hairpin
// chain's addresses and the dispatch chains' rules. A full sync re-reads the truth; each successful
// restore is folded in here.

export interface AppliedRules {
  readonly chains: Readonly<Record<Table, ReadonlySet<string>>>;
  readonly hairpin: ReadonlySet<string>;
  /** Dispatch chains' rule lines as this process wrote them; unknown after a read from the kernel. */
  readonly dispatch: ReadonlyMap<string, string>;
}

export function appliedFromSaved(saved: SavedRules): AppliedRules {
  return { chains: saved.chains, hairpin: hairpinAddresses(saved), dispatch: new Map() };
}

/** The state after `payload` was restored with --noflush on top of `before`. */
export function applyPayload(before: AppliedRules, payload: string): AppliedRules {
  const written = parseSaved(payload);
  // Stale chains are declared (flushed) and then deleted in the same payload: add first, delete after.
  const chains: Record<Table, Set<string>> = { nat: new Set([...before.chains.nat, ...written.chains.nat]), filter: new Set([...before.chains.filter, ...written.chains.filter]) };
  let table = '';
  for (const line of payload.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    if (table !== 'nat' && table !== 'filter') continue;
    const deleted = /^-X (\S+)$/.exec(line);
    if (deleted) chains[table].delete(deleted[1] as string);
  }
  const added = hairpinAddresses(written);
  const hairpin = written.chains.nat.has(HAIRPIN_CHAIN) ? added : new Set([...before.hairpin, ...added]);
  const dispatch = new Map(before.dispatch);
  for (const chain of DISPATCH_CHAINS) if (written.chains[chain.table].has(chain.name)) dispatch.set(chainKey(chain), dispatchText(chain, written.rules));
  return { chains, hairpin, dispatch };
}

/** `-A` lines per table in a payload: the rules one restore wrote. */
export function countRules(payload: string): Record<Table, number> {
  const written = parseSaved(payload);
  return { nat: written.rules.filter((r) => r.table === 'nat').length, filter: written.rules.filter((r) => r.table === 'filter').length };
}
