import type { SavedRules } from './saved.ts';
import { tableText } from './render.ts';

// The payload removing everything the proxy put into iptables (the other mode's start, and
// `weft-proxy --cleanup`): the jumps from the built-in chains into our chains, then our chains,
// flushed first so none still jumps to another. Other weft components' WEFT- chains stay. Empty
// when there is nothing of ours.

function target(spec: string): string | undefined {
  return / -j (\S+)/.exec(` ${spec}`)?.[1];
}

export function renderCleanup(saved: SavedRules): string {
  return (['filter', 'nat'] as const)
    .map((table) => {
      const ours = [...saved.chains[table]];
      const jumps = saved.rules.filter((r) => r.table === table && saved.chains[table].has(target(r.spec) ?? ''));
      if (ours.length === 0 && jumps.length === 0) return '';
      return tableText(table, { declare: ours, lines: jumps.map((r) => `-D ${r.chain} ${r.spec}`), delete: ours });
    })
    .join('');
}
