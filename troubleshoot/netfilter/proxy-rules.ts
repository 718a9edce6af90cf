import { isObject } from '../../lib/json.ts';
import type { Protocol } from '../model/target.ts';
import type { IptablesRuleset } from './iptables-ruleset.ts';
import type { NftTable } from './nftables-ruleset.ts';
import { elementComment, elementKeyParts } from './nftables-values.ts';
import { groupDestinationProtocol, isProxyChain, proxyTable, serviceOfElement, serviceOfRule } from './proxy-layout.ts';

// Questions about weft-proxy's rules as the kernel holds them: does a destination belong to a Service
// (some proxy rule or set element names it), which proxy chains can no packet reach (a rule that sent
// packets there is gone), and which Service addresses does the proxy reject for lack of endpoints.

export interface ProxyRulesets {
  readonly iptables: readonly { readonly engine: string; readonly ruleset: IptablesRuleset }[];
  readonly nftables: readonly NftTable[];
}

function ownTable(tables: readonly NftTable[]): NftTable | undefined {
  return tables.find((t) => `${t.family} ${t.name}` === proxyTable());
}

/** Sets the proxy's verdict rules (reject, drop) look in: their elements are refused, not translated. */
function verdictSets(table: NftTable): Set<string> {
  const names = new Set<string>();
  for (const chain of table.chains.values()) {
    for (const rule of chain.rules) {
      if (!rule.expr.some((e) => isObject(e) && ('reject' in e || 'drop' in e))) continue;
      for (const e of rule.expr) {
        const right = isObject(e) && isObject(e.match) ? e.match.right : undefined;
        if (typeof right === 'string' && right.startsWith('@')) names.add(right.slice(1));
      }
    }
  }
  return names;
}

/** Where the proxy's translating rules name `dst:port/proto` as a Service destination, or undefined. */
export function proxyRuleNaming(rulesets: ProxyRulesets, dst: { ip: string; port?: number; proto: Protocol }): string | undefined {
  if (dst.port === undefined) return undefined;
  for (const { engine, ruleset } of rulesets.iptables) {
    for (const [name, chain] of ruleset.get('nat') ?? []) {
      if (!isProxyChain(name)) continue;
      for (const rule of chain.rules) {
        const t = rule.tokens;
        const d = t.indexOf('-d');
        const p = t.indexOf('--dport');
        if (d >= 0 && p >= 0 && [dst.ip, `${dst.ip}/32`].includes(t[d + 1] ?? '') && t[p + 1] === String(dst.port)) return `${engine} nat ${name}: ${rule.line}`;
      }
    }
  }
  const table = ownTable(rulesets.nftables);
  const refused = table ? verdictSets(table) : new Set<string>();
  for (const set of table?.sets.values() ?? []) {
    if (refused.has(set.name)) continue;
    const groupProtocol = groupDestinationProtocol(set.name);
    for (const element of set.elements) {
      const parts = elementKeyParts(element);
      const [ip, proto, port] = groupProtocol === undefined ? parts : [parts[0], groupProtocol, parts[1]];
      if (ip !== dst.ip || proto !== dst.proto || port !== dst.port) continue;
      const service = serviceOfElement(proxyTable(), elementComment(element));
      return `nftables ${proxyTable()} set ${set.name}: ${parts.join(' . ')}${service !== undefined ? ` (${service})` : ''}`;
    }
  }
  return undefined;
}

function jumpTargets(tokens: readonly string[]): string[] {
  const at = tokens.findIndex((t) => t === '-j' || t === '-g');
  return at >= 0 && tokens[at + 1] ? [tokens[at + 1] as string] : [];
}

/** Every chain or verdict a nft expression list or map element jumps to. */
function nftTargets(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(nftTargets);
  if (!isObject(value)) return [];
  const own = ['jump', 'goto'].flatMap((k) => (isObject(value[k]) && typeof (value[k] as { target?: unknown }).target === 'string' ? [String((value[k] as { target: string }).target)] : []));
  return [...own, ...Object.values(value).flatMap(nftTargets)];
}

const BUILTIN_CHAINS = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

/** The Service destinations (`-d IP --dport P`) a proxy chain's own rules test for. */
function chainDestinations(rules: readonly { tokens: readonly string[] }[]): string[] {
  const found = new Set<string>();
  for (const { tokens: t } of rules) {
    const d = t.indexOf('-d');
    const p = t.indexOf('--dport');
    if (d >= 0 && p >= 0 && t[d - 1] !== '!') found.add(`${t[d + 1]?.replace(/\/32$/, '')}:${t[p + 1]}`);
  }
  return [...found];
}

/**
 * Destinations a proxy chain handles (its rules test for them) that no rule sends to it: the rule
 * leading there for that destination is missing, though other rules may still reach the chain.
 */
export function undispatchedDestinations(rulesets: ProxyRulesets): string[] {
  const found: string[] = [];
  for (const { engine, ruleset } of rulesets.iptables) {
    const nat = ruleset.get('nat');
    if (!nat) continue;
    const jumps = [...nat.values()].flatMap((c) => c.rules.map((r) => ({ target: jumpTargets(r.tokens)[0], dests: chainDestinations([r]) })));
    // Chains entered from the built-in ones (the dispatch chain) see every destination by design.
    const entered = new Set(BUILTIN_CHAINS.flatMap((b) => (nat.get(b)?.rules ?? []).flatMap((r) => jumpTargets(r.tokens))));
    for (const [name, chain] of nat) {
      if (!isProxyChain(name) || entered.has(name)) continue;
      for (const dest of chainDestinations(chain.rules)) {
        if (!jumps.some((j) => j.target === name && j.dests.includes(dest))) found.push(`${engine} nat ${name} handles ${dest}, but no rule sends ${dest} there`);
      }
    }
  }
  return found;
}

/** Proxy chains no rule jumps to: the rule that led there is missing. */
export function unreachableProxyChains(rulesets: ProxyRulesets): string[] {
  const found: string[] = [];
  for (const { engine, ruleset } of rulesets.iptables) {
    for (const [table, chains] of ruleset) {
      const referenced = new Set([...chains.values()].flatMap((c) => c.rules.flatMap((r) => jumpTargets(r.tokens))));
      for (const name of chains.keys()) if (isProxyChain(name) && !referenced.has(name)) found.push(`${engine} ${table} ${name}`);
    }
  }
  const table = ownTable(rulesets.nftables);
  if (table) {
    const referenced = new Set([...[...table.chains.values()].flatMap((c) => c.rules.flatMap((r) => nftTargets(r.expr))), ...[...table.sets.values()].flatMap((s) => nftTargets(s.elements))]);
    for (const chain of table.chains.values()) if (chain.hook === undefined && !referenced.has(chain.name)) found.push(`nftables ${proxyTable()} ${chain.name}`);
  }
  return found;
}

/** An nft Service key as the iptables side writes it: `ip . proto . port` -> "ip:port", `proto . port` -> "node port port". */
function destinationOf(parts: readonly unknown[]): string {
  if (parts.length === 3) return `${parts[0]}:${parts[2]}`;
  if (parts.length === 2) return `node port ${parts[1]}`;
  return parts.join(' . ');
}

/** Service addresses the proxy rejects because they have no endpoints, with the Service each is for. */
export function rejectedDestinations(rulesets: ProxyRulesets): string[] {
  const found: string[] = [];
  for (const { ruleset } of rulesets.iptables) {
    for (const chains of ruleset.values()) {
      for (const [name, chain] of chains) {
        if (!isProxyChain(name)) continue;
        for (const rule of chain.rules) {
          if (jumpTargets(rule.tokens)[0] !== 'REJECT') continue;
          const t = rule.tokens;
          const d = t.includes('-d') ? t[t.indexOf('-d') + 1]?.replace(/\/32$/, '') : undefined;
          const p = t.includes('--dport') ? t[t.indexOf('--dport') + 1] : undefined;
          found.push(`${serviceOfRule(rule.line) ?? 'a Service'} (${d ? `${d}${p ? `:${p}` : ''}` : `node port ${p ?? '?'}`})`);
        }
      }
    }
  }
  const table = ownTable(rulesets.nftables);
  for (const chain of table?.chains.values() ?? []) {
    for (const rule of chain.rules) {
      if (!rule.expr.some((e) => isObject(e) && 'reject' in e)) continue;
      for (const e of rule.expr) {
        const right = isObject(e) && isObject(e.match) ? e.match.right : undefined;
        const set = typeof right === 'string' && right.startsWith('@') ? table?.sets.get(right.slice(1)) : undefined;
        for (const element of set?.elements ?? []) found.push(`${serviceOfElement(proxyTable(), elementComment(element)) ?? 'a Service'} (${destinationOf(elementKeyParts(element))})`);
      }
    }
  }
  return found;
}
