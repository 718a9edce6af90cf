import { elementLayout, type SetElements } from '../../lib/netlink/nftables-elements.ts';

// The nftables data plane as a value: sets, maps and chains of the one table `ip weft`. A full sync
// replaces the table in one `nft -f` transaction; a partial sync is the difference between the table
// applied last and the wanted one, mostly element lines (an endpoint change touches a few elements,
// never a chain).

export const TABLE = 'ip weft';
/** The table's name within its family, as netlink names it. */
export const TABLE_NAME = 'weft';

/** Elements per `add element` line: keeps single lines reasonable at 100k elements. */
const ELEMENTS_PER_LINE = 2000;

export interface NftSet {
  readonly name: string;
  /** What goes between the braces of `add set|map`, e.g. "typeof ip daddr . th dport;". */
  readonly spec: string;
  readonly map: boolean;
  /** `key` for sets, `key : value` for maps, either with ` comment "..."` after the key; undefined when the kernel fills it (affinity timeouts). */
  readonly elements?: readonly string[];
}

export interface NftChain {
  readonly name: string;
  /** Base chain declaration, e.g. "type nat hook prerouting priority dstnat; policy accept;". */
  readonly hook?: string;
  readonly rules: readonly string[];
}

export interface NftTable {
  readonly sets: readonly NftSet[];
  readonly chains: readonly NftChain[];
}

function declareSet(s: NftSet): string {
  return `add ${s.map ? 'map' : 'set'} ${TABLE} ${s.name} { ${s.spec} }`;
}

function declareChain(c: NftChain): string {
  return c.hook ? `add chain ${TABLE} ${c.name} { ${c.hook} }` : `add chain ${TABLE} ${c.name}`;
}

function chainRules(c: NftChain): string[] {
  return c.rules.map((r) => `add rule ${TABLE} ${c.name} ${r}`);
}

function elementLines(verb: 'add' | 'delete', set: string, elements: readonly string[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < elements.length; i += ELEMENTS_PER_LINE) lines.push(`${verb} element ${TABLE} ${set} { ${elements.slice(i, i + ELEMENTS_PER_LINE).join(', ')} }`);
  return lines;
}

/** An element is deleted by its key alone: without its comment (`key comment "..."`) and a map's value (`key : value`). */
export function elementKey(element: string): string {
  const ends = [element.indexOf(' comment '), element.indexOf(' : ')].filter((at) => at >= 0);
  return ends.length === 0 ? element : element.slice(0, Math.min(...ends));
}

function text(lines: readonly string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * The whole table, replacing whatever table of that name exists (adding it first makes the delete
 * valid on a clean node); one transaction, so traffic never sees a missing or half-built table.
 */
export function renderFullSync(table: NftTable): string {
  return text([
    `add table ${TABLE}`,
    `delete table ${TABLE}`,
    `add table ${TABLE}`,
    ...table.sets.map(declareSet),
    ...table.chains.map(declareChain),
    ...table.sets.flatMap((s) => elementLines('add', s.name, s.elements ?? [])),
    ...table.chains.flatMap(chainRules),
  ]);
}

/** A full sync for a node without the table, in transactions that can run apart (see renderFreshLoad). */
export interface FreshLoad {
  /** The table (created, so that a table made meanwhile fails it), its sets and maps, its chains without hooks, with their rules. */
  readonly structure: string;
  /** The elements of sets nft writes, split into parts of about as many elements each, loaded side by side. */
  readonly elements: readonly string[];
  /** The elements of sets whose layout weft encodes itself, sent as netlink batches beside those parts. */
  readonly setElements: readonly SetElements[];
  /** The base chains and their rules: the last transaction, after which traffic meets the table. */
  readonly hooks: string;
}

/**
 * The table for a node that has none, in transactions. nft parses, checks and converts each element
 * in one thread, and at 10,000 Services x 10 endpoints that was most of a load (perf: a third of it
 * zeroing nft's heap, half parsing; the kernel's own element work ~0.35 s of ~2 s). So the elements
 * of sets whose layout elementLayout knows (the group maps: nearly all elements) go as netlink
 * batches weft encodes itself, and the rest as text parts in parallel nft runs. Traffic reaches the
 * table only through its base chains, which come last in one transaction, so it still sees no table,
 * then the whole one. A node that has the table gets renderFullSync: replacing a table that serves
 * traffic takes one transaction.
 */
export function renderFreshLoad(table: NftTable, parts: number): FreshLoad {
  const base = table.chains.filter((c) => c.hook !== undefined);
  const regular = table.chains.filter((c) => c.hook === undefined);
  const loads = Array.from({ length: Math.max(1, parts) }, () => ({ lines: [] as string[], elements: 0 }));
  const setElements: SetElements[] = [];
  for (const s of table.sets) {
    const elements = s.elements ?? [];
    if (elements.length === 0) continue;
    const layout = elementLayout(s.spec);
    if (layout) {
      setElements.push({ set: s.name, layout, elements });
      continue;
    }
    for (let i = 0; i < elements.length; i += ELEMENTS_PER_LINE) {
      const chunk = elements.slice(i, i + ELEMENTS_PER_LINE);
      const lightest = loads.reduce((a, b) => (b.elements < a.elements ? b : a));
      lightest.lines.push(`add element ${TABLE} ${s.name} { ${chunk.join(', ')} }`);
      lightest.elements += chunk.length;
    }
  }
  return {
    structure: text([`create table ${TABLE}`, ...table.sets.map(declareSet), ...regular.map(declareChain), ...regular.flatMap(chainRules)]),
    elements: loads.map((l) => text(l.lines)).filter((t) => t !== ''),
    setElements,
    hooks: text([...base.map(declareChain), ...base.flatMap(chainRules)]),
  };
}

/**
 * What turns the declarations of `before` (applied last) into those of `after`, with `elementLines`
 * (the element changes, see renderElementChanges) in their place; undefined when a declaration
 * changed in place (a set's type, a chain's hook): those need a full sync. Order inside the
 * transaction: new objects, the element lines, rewritten chains, then stale chains (flushed first, as
 * they may jump to each other) and stale sets.
 */
export function renderTableDiff(before: NftTable, after: NftTable, elementLines: readonly string[]): string | undefined {
  const oldSets = new Map(before.sets.map((s) => [s.name, s]));
  const oldChains = new Map(before.chains.map((c) => [c.name, c]));
  const newSets = new Set(after.sets.map((s) => s.name));
  const newChains = new Set(after.chains.map((c) => c.name));
  for (const s of after.sets) {
    const old = oldSets.get(s.name);
    if (old && (old.spec !== s.spec || old.map !== s.map)) return undefined;
  }
  for (const c of after.chains) if (oldChains.has(c.name) && oldChains.get(c.name)?.hook !== c.hook) return undefined;

  const lines: string[] = [];
  for (const s of after.sets) if (!oldSets.has(s.name)) lines.push(declareSet(s));
  for (const c of after.chains) if (!oldChains.has(c.name)) lines.push(declareChain(c));
  lines.push(...elementLines);
  for (const c of after.chains) {
    const old = oldChains.get(c.name);
    if (old && old.rules.join('\n') === c.rules.join('\n')) continue;
    if (old) lines.push(`flush chain ${TABLE} ${c.name}`);
    lines.push(...chainRules(c));
  }
  const staleChains = before.chains.filter((c) => !newChains.has(c.name));
  lines.push(...staleChains.map((c) => `flush chain ${TABLE} ${c.name}`), ...staleChains.map((c) => `delete chain ${TABLE} ${c.name}`));
  lines.push(...before.sets.filter((s) => !newSets.has(s.name)).map((s) => `delete ${s.map ? 'map' : 'set'} ${TABLE} ${s.name}`));
  return text(lines);
}

/**
 * Element lines for changes given as `SET ELEMENT` strings: deletions (by key) before additions, so
 * a map key whose value changed is replaced.
 */
export function renderElementChanges(deleted: readonly string[], added: readonly string[]): string[] {
  const bySet = (lines: readonly string[], keyOnly: boolean) => {
    const groups = new Map<string, string[]>();
    for (const line of lines) {
      const at = line.indexOf(' ');
      const set = line.slice(0, at);
      const element = line.slice(at + 1);
      const list = groups.get(set) ?? [];
      if (list.length === 0) groups.set(set, list);
      list.push(keyOnly ? elementKey(element) : element);
    }
    return groups;
  };
  return [
    ...[...bySet(deleted, true)].flatMap(([set, keys]) => elementLines('delete', set, keys)),
    ...[...bySet(added, false)].flatMap(([set, elements]) => elementLines('add', set, elements)),
  ];
}

/** Rules and elements a payload writes: what the metrics call rules. */
export function countPayloadLines(payload: string): number {
  return payload.split('\n').filter((l) => l.startsWith('add rule') || l.startsWith('add element')).length;
}
