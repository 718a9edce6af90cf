// An iptables ruleset as `iptables-save` prints it (or as `iptables-restore` input: "-I" inserts at
// the head): per table, per chain, the policy and the rules, each rule kept as its tokens and its line.

export interface IptablesRule {
  readonly tokens: readonly string[];
  /** The line as the kernel's tool printed it: shown as evidence. */
  readonly line: string;
}

export interface IptablesChain {
  /** ACCEPT or DROP for built-in chains; undefined for user chains. */
  readonly policy?: string;
  readonly rules: IptablesRule[];
}

export type IptablesRuleset = ReadonlyMap<string, ReadonlyMap<string, IptablesChain>>;

/** Splits a rule line into tokens; a double-quoted comment is one token. */
export function tokenize(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replaceAll('\\"', '"') : (m[2] ?? '')));
}

export function parseRestoreText(text: string): IptablesRuleset {
  const tables = new Map<string, Map<string, IptablesChain>>();
  let chains = new Map<string, IptablesChain>();
  const chainOf = (name: string, policy?: string): IptablesChain => {
    let chain = chains.get(name);
    if (!chain) chains.set(name, (chain = { ...(policy && policy !== '-' ? { policy } : {}), rules: [] }));
    return chain;
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) tables.set(line.slice(1), (chains = new Map()));
    else if (line.startsWith(':')) {
      const [name = '', policy] = line.slice(1).split(' ');
      chainOf(name, policy);
    } else {
      const [op, chain, ...rest] = tokenize(line);
      if ((op !== '-A' && op !== '-I') || !chain) continue;
      const rules = chainOf(chain).rules;
      const rule = { tokens: rest, line };
      if (op === '-A') rules.push(rule);
      else rules.unshift(rule);
    }
  }
  return tables;
}

/** How many rules a ruleset holds (a backend that only lists built-in chains holds none). */
export function countRules(ruleset: IptablesRuleset): number {
  let n = 0;
  for (const chains of ruleset.values()) for (const chain of chains.values()) n += chain.rules.length;
  return n;
}

/** Where the rules are: "filter FORWARD (2), nat POSTROUTING (1)". */
export function describeRules(ruleset: IptablesRuleset): string {
  const parts: string[] = [];
  for (const [table, chains] of ruleset) for (const [name, chain] of chains) if (chain.rules.length > 0) parts.push(`${table} ${name} (${chain.rules.length})`);
  return parts.join(', ');
}
