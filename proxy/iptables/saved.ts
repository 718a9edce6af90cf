import { isProxyChain } from './chain-names.ts';
import type { Rule, Table } from './rules.ts';

// What `iptables-save` says is in the kernel, read before each full sync and for a cleanup: the
// proxy's own WEFT- chains, and the rules of the built-in chains (where the jumps into ours live).
// The rules inside our chains are skipped: a full sync rewrites them all anyway.

const BUILTIN = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

export interface SavedRules {
  /** Rules of the built-in chains. */
  readonly rules: readonly Rule[];
  readonly chains: Readonly<Record<Table, ReadonlySet<string>>>;
}

export function parseSaved(saveText: string): SavedRules {
  const rules: Rule[] = [];
  const chains: Record<Table, Set<string>> = { nat: new Set(), filter: new Set() };
  let table = '';
  let at = 0;
  while (at < saveText.length) {
    const end = saveText.indexOf('\n', at);
    const line = saveText.slice(at, end < 0 ? saveText.length : end);
    at = end < 0 ? saveText.length : end + 1;
    if (line.startsWith('*')) table = line.slice(1).trim();
    if (table !== 'nat' && table !== 'filter') continue;
    if (line.startsWith(':WEFT-')) {
      const name = line.slice(1, line.indexOf(' '));
      if (isProxyChain(name)) chains[table].add(name);
      continue;
    }
    const appended = /^-A (\S+) (.*)$/.exec(line);
    if (appended && BUILTIN.has(appended[1] as string)) rules.push({ table, chain: appended[1] as string, spec: appended[2] as string });
  }
  return { rules, chains };
}
