// macspoofchk: frames entering the bridge from a pod's veth must carry the pod's MAC. One nftables table
// of the bridge family holds one rule and two sets; a pod is two set elements keyed by its host veth, so
// adding or removing a pod never needs a rule handle. Every ADD rewrites the rule inside the same
// transaction (flush chain + add rule), which keeps it single however many ADDs race. The table goes
// with its last pod: removals and additions hold one lock per node (packet-filter.ts), so a removal
// that finds its pods the last ones cannot delete the table under an ADD that is adding another.

export const MACSPOOF_TABLE = 'weft';

export function renderMacspoofAdd(hostVeth: string, mac: string): string {
  const t = `bridge ${MACSPOOF_TABLE}`;
  return [
    `add table ${t}`,
    // Before the bridge's own decisions (priority -300, as the reference's nat prerouting).
    `add chain ${t} prerouting { type filter hook prerouting priority -300; policy accept; }`,
    `add set ${t} guarded { type ifname; }`,
    `add set ${t} allowed { type ifname . ether_addr; }`,
    `flush chain ${t} prerouting`,
    `add rule ${t} prerouting iifname @guarded iifname . ether saddr != @allowed drop comment "weft-bridge macspoofchk"`,
    `add element ${t} guarded { "${hostVeth}" }`,
    `add element ${t} allowed { "${hostVeth}" . ${mac} }`,
    '',
  ].join('\n');
}

interface NftSet {
  set?: { name?: string; elem?: unknown[] };
}

/** Interfaces and MACs in the guarded/allowed sets of an `nft -j list table bridge weft` listing. */
function readSets(listing: string): { guarded: string[]; allowed: [string, string][] } {
  const parsed = listing.trim() === '' ? {} : (JSON.parse(listing) as { nftables?: NftSet[] });
  const elems = (name: string) => (parsed.nftables ?? []).find((o) => o.set?.name === name)?.set?.elem ?? [];
  const allowed = elems('allowed').flatMap((e) => {
    const concat = (e as { concat?: unknown[] }).concat;
    return Array.isArray(concat) && typeof concat[0] === 'string' && typeof concat[1] === 'string' ? [[concat[0], concat[1]] as [string, string]] : [];
  });
  return { guarded: elems('guarded').filter((e): e is string => typeof e === 'string'), allowed };
}

/**
 * Deletes the set elements of the interfaces `select` picks, or the whole table when no interface
 * would be left guarded; empty when there is nothing to do. Deleting an element that is not there
 * fails the whole transaction, so only listed elements are named.
 */
export function renderMacspoofRemoval(listing: string, select: (hostVeth: string) => boolean): string {
  const { guarded, allowed } = readSets(listing);
  const t = `bridge ${MACSPOOF_TABLE}`;
  if (guarded.every(select)) return `delete table ${t}\n`;
  const lines = [
    ...guarded.filter(select).map((name) => `delete element ${t} guarded { "${name}" }`),
    ...allowed.filter(([name]) => select(name)).map(([name, mac]) => `delete element ${t} allowed { "${name}" . ${mac} }`),
  ];
  return lines.length ? [...lines, ''].join('\n') : '';
}
