import { isObject, parseToolJson } from '../../lib/json.ts';

// The native nftables ruleset as `nft -j list ruleset` describes it, each rule with its text from
// `nft -a list ruleset` (the JSON form has none) so evidence reads as the operator would type it.
// Tables iptables-nft owns are left to the iptables tracer, which reads their targets' arguments.

export interface NftRule {
  readonly handle: number;
  readonly expr: readonly unknown[];
  readonly text: string;
}

export interface NftChain {
  readonly name: string;
  readonly hook?: string;
  readonly priority?: number;
  readonly type?: string;
  readonly policy?: string;
  readonly rules: NftRule[];
}

export interface NftSet {
  readonly name: string;
  readonly map: boolean;
  /** Elements as nft's JSON writes them: a key, or [key, value] for maps. */
  readonly elements: readonly unknown[];
}

export interface NftTable {
  readonly family: string;
  readonly name: string;
  readonly chains: Map<string, NftChain>;
  readonly sets: Map<string, NftSet>;
}

/** Families whose chains see IPv4 packets. */
const IPV4_FAMILIES = new Set(['ip', 'inet']);

/** Rule texts by "family table chain handle", from `nft -a list ruleset`. */
function ruleTexts(text: string): Map<string, string> {
  const texts = new Map<string, string>();
  let table = '';
  let chain = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const tableHeader = /^table (\S+) (\S+) \{/.exec(line);
    if (tableHeader) table = `${tableHeader[1]} ${tableHeader[2]}`;
    const chainHeader = /^chain (\S+) \{/.exec(line);
    if (chainHeader) chain = chainHeader[1] as string;
    const rule = /^(.*\S)\s+# handle (\d+)$/.exec(line);
    if (rule && !(rule[1] as string).endsWith('{')) texts.set(`${table} ${chain} ${rule[2]}`, rule[1] as string);
  }
  return texts;
}

/** Parses the JSON listing; tables in `skip` ("ip nat", ...) and non-IPv4 families are left out. */
export function parseNftRuleset(json: string, text: string, skip: ReadonlySet<string> = new Set()): NftTable[] {
  const document = parseToolJson(json, 'the nftables ruleset');
  const items = isObject(document) && Array.isArray(document.nftables) ? document.nftables.filter(isObject) : [];
  const texts = ruleTexts(text);
  const tables = new Map<string, NftTable>();
  const tableOf = (o: Record<string, unknown>): NftTable | undefined => tables.get(`${o.family} ${o.table}`);
  for (const item of items) {
    const t = item.table;
    if (isObject(t) && IPV4_FAMILIES.has(String(t.family)) && !skip.has(`${t.family} ${t.name}`)) {
      tables.set(`${t.family} ${t.name}`, { family: String(t.family), name: String(t.name), chains: new Map(), sets: new Map() });
    }
  }
  for (const item of items) {
    const [kind, value] = Object.entries(item)[0] ?? [];
    if (!isObject(value)) continue;
    const table = tableOf(value);
    if (!table) continue;
    if (kind === 'chain') {
      table.chains.set(String(value.name), {
        name: String(value.name),
        ...(typeof value.hook === 'string' ? { hook: value.hook, priority: Number(value.prio ?? 0), type: String(value.type ?? 'filter'), policy: String(value.policy ?? 'accept') } : {}),
        rules: [],
      });
    } else if (kind === 'set' || kind === 'map') {
      table.sets.set(String(value.name), { name: String(value.name), map: kind === 'map', elements: Array.isArray(value.elem) ? value.elem : [] });
    } else if (kind === 'rule') {
      const chain = table.chains.get(String(value.chain));
      const handle = Number(value.handle);
      const expr = Array.isArray(value.expr) ? value.expr : [];
      chain?.rules.push({ handle, expr, text: texts.get(`${table.family} ${table.name} ${value.chain} ${handle}`) ?? JSON.stringify(expr) });
    }
  }
  return [...tables.values()];
}

/** How many rules the tables hold. */
export function countNftRules(tables: readonly NftTable[]): number {
  return tables.reduce((n, t) => n + [...t.chains.values()].reduce((m, c) => m + c.rules.length, 0), 0);
}
