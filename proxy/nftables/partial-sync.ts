import type { ServiceDiff } from '../core/backend.ts';
import type { ProxyConfig } from '../core/config.ts';
import { groupsOf } from './groups.ts';
import { assembleTable, HAIRPIN_SET, servicePortParts, type Parts } from './render.ts';
import { renderElementChanges, renderTableDiff } from './table.ts';

// What a partial sync writes: the difference between the changed Services' parts as the kernel holds
// them and as they should be, element lines for an endpoint change, declarations only when a
// Service's own chains or an endpoint-count group come or go. Nothing else of the table is looked
// at, so the cost follows the change, not the table. Hairpin pairs are only added between full
// syncs: a pair left for an address that is no endpoint any more matches no connection (the set is
// consulted only for DNATed ones, and nothing is DNATed to it), and the next full sync drops it.

/** How many Service ports use each endpoint-count group: a group's sets, maps and chains exist while it is used. */
export type GroupUse = ReadonlyMap<string, number>;

export function groupUse(parts: Iterable<Parts>): Map<string, number> {
  const use = new Map<string, number>();
  for (const p of parts) if (p.group !== undefined) use.set(p.group, (use.get(p.group) ?? 0) + 1);
  return use;
}

/** The payload for `diffs`, and the group use after it; undefined when a declaration changed in place (full sync). */
export function renderPartialSync(diffs: readonly ServiceDiff[], use: GroupUse, config: ProxyConfig): { payload: string; use: GroupUse } | undefined {
  const oldParts = diffs.flatMap((d) => d.before.map((sp) => servicePortParts(sp, config)));
  const newParts = diffs.flatMap((d) => d.after.map((sp) => servicePortParts(sp, config)));
  const next = new Map(use);
  for (const [group, n] of groupUse(oldParts)) {
    const left = (next.get(group) ?? 0) - n;
    if (left > 0) next.set(group, left);
    else next.delete(group);
  }
  for (const [group, n] of groupUse(newParts)) next.set(group, (next.get(group) ?? 0) + n);
  const had = new Set(oldParts.flatMap((p) => p.elements));
  const wanted = new Set(newParts.flatMap((p) => p.elements));
  const deleted = [...had].filter((e) => !wanted.has(e) && !e.startsWith(`${HAIRPIN_SET} `));
  const added = [...wanted].filter((e) => !had.has(e));
  // The declarations only (no elements): the element lines come from the comparison above.
  const payload = renderTableDiff(assembleTable(oldParts, groupsOf(use), config), assembleTable(newParts, groupsOf(next), config), renderElementChanges(deleted, added));
  return payload === undefined ? undefined : { payload, use: next };
}
