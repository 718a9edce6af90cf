import { isObject } from '../../lib/json.ts';
import { dnatTo, formatProbability, withFlow, withHit, withNote, type BaseChainRef, type Branch, type ChainEvaluator, type End, type Hook, type NodeFacts, type Outcome, type RuleHit } from './flow.ts';
import type { NftChain, NftRule, NftTable } from './nftables-ruleset.ts';
import { serviceOfElement } from './proxy-layout.ts';
import { ABSENT, canonical, elementComment, elementMatches, evaluateKey, findElement, mapLookup, type Atom } from './nftables-values.ts';

// Walks a packet's flow through the native nftables tables (weft-proxy's `ip weft`, and any other),
// expression by expression as nft's JSON lists them. A `numgen random` key forks the flow, so a
// Service's map yields each endpoint with its probability. An expression not understood leaves its
// rule not evaluated, reported as such (and as a possible drop when the rule drops). The proxy's
// set and map elements that stand for a Service port name it in their comment: a rule's hits carry
// the Service of the element it matched, as the iptables tracer's carry the one its comment names.

/** A value a map gives for the flow, with its probability (numgen forks a key) and its element's comment. */
type MapValue = { readonly value: unknown; readonly probability: number; readonly comment?: string };

const HOOKS = new Set<Hook>(['prerouting', 'input', 'forward', 'output', 'postrouting']);
const MAX_DEPTH = 32;

type Step = { kind: 'next'; branch: Branch } | { kind: 'return'; branch: Branch } | { kind: 'end'; branch: Branch; end: End; by?: RuleHit };

interface Place {
  readonly table: NftTable;
  readonly chain: NftChain;
  readonly rule: NftRule;
  /** The Service port named by the element the rule matched so far. */
  readonly service?: string;
}

/** A branch part way through a rule, with the Service its matches named. */
interface Matching {
  readonly branch: Branch;
  readonly service?: string;
}

type Compared = { probability: number; service?: string } | undefined;

export class NftablesEvaluator implements ChainEvaluator {
  readonly engine = 'nftables' as const;
  readonly #tables: readonly NftTable[];

  constructor(tables: readonly NftTable[]) {
    this.#tables = tables;
  }

  baseChains(): BaseChainRef[] {
    return this.#tables.flatMap((t) =>
      [...t.chains.values()]
        .filter((c) => c.hook !== undefined && HOOKS.has(c.hook as Hook))
        .map((c): BaseChainRef => ({ engine: this.engine, table: this.#name(t), chain: c.name, hook: c.hook as Hook, priority: c.priority ?? 0, nat: c.type === 'nat' })),
    );
  }

  evaluate(ref: BaseChainRef, branch: Branch, facts: NodeFacts): Outcome[] {
    const table = this.#tables.find((t) => this.#name(t) === ref.table);
    const chain = table?.chains.get(ref.chain);
    if (!table || !chain) return [{ branch, end: 'accept' }];
    return this.#chain(table, chain, branch, facts, 0).map((step): Outcome => {
      if (step.kind === 'end') return { branch: step.branch, end: step.end, ...(step.by ? { by: step.by } : {}) };
      if (chain.policy !== 'drop') return { branch: step.branch, end: 'accept' };
      const by: RuleHit = { engine: this.engine, table: ref.table, chain: chain.name, rule: `policy drop`, action: 'policy drop' };
      return { branch: withHit(step.branch, by), end: 'drop', by };
    });
  }

  #hit(place: Place, action: string): RuleHit {
    return { engine: this.engine, table: this.#name(place.table), chain: place.chain.name, rule: place.rule.text, action, ...(place.service !== undefined ? { service: place.service } : {}) };
  }

  #name(table: NftTable): string {
    return `${table.family} ${table.name}`;
  }

  /** `place` with the Service an element's comment names, when it names one. */
  #naming(place: Place, comment: string | undefined): Place {
    const service = serviceOfElement(this.#name(place.table), comment);
    return service === undefined ? place : { ...place, service };
  }

  #chain(table: NftTable, chain: NftChain, start: Branch, facts: NodeFacts, depth: number): Step[] {
    if (depth > MAX_DEPTH) return [{ kind: 'return', branch: withNote(start, `nftables ${table.name}: jumps nest deeper than ${MAX_DEPTH} at "${chain.name}"`) }];
    let active: Branch[] = [start];
    const finished: Step[] = [];
    for (const rule of chain.rules) {
      const next: Branch[] = [];
      for (const branch of active) {
        for (const step of this.#rule({ table, chain, rule }, branch, facts, depth)) {
          if (step.kind === 'next') next.push(step.branch);
          else finished.push(step);
        }
      }
      active = next;
      if (active.length === 0) break;
    }
    return [...finished, ...active.map((branch): Step => ({ kind: 'return', branch }))];
  }

  /** A rule's expressions in order: matches narrow (or fork) the branch, statements act on it. */
  #rule(place: Place, start: Branch, facts: NodeFacts, depth: number): Step[] {
    const steps: Step[] = [];
    let states: Matching[] = [{ branch: start }];
    for (const expr of place.rule.expr) {
      const next: Matching[] = [];
      for (const { branch, service } of states) {
        const here = service === undefined ? place : { ...place, service };
        if (isObject(expr) && isObject(expr.match)) {
          const compared = this.#compare(place.table, expr.match, branch, facts);
          if (compared === undefined) {
            steps.push({ kind: 'next', branch: this.#notEvaluated(place, branch) });
            continue;
          }
          if (compared.probability < 1) steps.push({ kind: 'next', branch: { ...branch, probability: branch.probability * (1 - compared.probability) } });
          if (compared.probability > 0) next.push({ branch: { ...branch, probability: branch.probability * compared.probability }, service: compared.service ?? service });
          continue;
        }
        const acted = this.#statement(here, expr, branch, facts, depth);
        if (acted === 'continue') next.push({ branch, service });
        else if ('changed' in acted) next.push({ branch: acted.changed, service });
        else steps.push(...acted.steps);
      }
      states = next;
      if (states.length === 0) break;
    }
    return [...steps, ...states.map(({ branch }): Step => ({ kind: 'next', branch }))];
  }

  #notEvaluated(place: Place, branch: Branch): Branch {
    const drops = place.rule.expr.some((e) => isObject(e) && ('drop' in e || 'reject' in e));
    return withNote(branch, `nftables ${place.table.name} ${place.chain.name}: rule not evaluated: "${place.rule.text}"${drops ? '; it may drop this packet' : ''}`);
  }

  #setElements(table: NftTable, ref: unknown): readonly unknown[] | undefined {
    if (typeof ref === 'string' && ref.startsWith('@')) return table.sets.get(ref.slice(1))?.elements;
    if (isObject(ref) && Array.isArray(ref.set)) return ref.set;
    return undefined;
  }

  /** The probability that a match holds, and the Service the set element it found names; undefined when it cannot be evaluated. */
  #compare(table: NftTable, match: Record<string, unknown>, branch: Branch, facts: NodeFacts): Compared {
    const choices = evaluateKey(match.left, branch.flow, facts);
    if (choices.length === 0) return undefined;
    const op = String(match.op ?? '==');
    let probability = 0;
    let service: string | undefined;
    for (const choice of choices) {
      if (choice.key.includes(ABSENT)) continue;
      const key = choice.key as Atom[];
      const held = this.#holds(table, op, key, match.right);
      if (held === undefined) return undefined;
      if (!held.holds) continue;
      probability += choice.probability;
      service ??= serviceOfElement(this.#name(table), held.comment);
    }
    return { probability, ...(service !== undefined ? { service } : {}) };
  }

  /** Whether `key` passes the comparison, with the comment of the element it found when it looked in a set. */
  #holds(table: NftTable, op: string, key: readonly Atom[], right: unknown): { holds: boolean; comment?: string } | undefined {
    const elements = Array.isArray(right) ? right : this.#setElements(table, right);
    if (op === 'in') {
      // Flags (ct state, ct status): the value is one of the listed ones.
      return { holds: key.length === 1 && (elements ?? [right]).some((e) => elementMatches(e, key)) };
    }
    if (op === '==' || op === '!=') {
      const found = elements ? findElement(elements, key) : elementMatches(right, key) ? right : undefined;
      if (op === '!=') return { holds: found === undefined };
      const comment = elementComment(found);
      return { holds: found !== undefined, ...(comment !== undefined ? { comment } : {}) };
    }
    const [a] = key;
    const b = Number(canonical(right as Atom));
    if (typeof a !== 'number' || Number.isNaN(b)) return undefined;
    const holds = op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : op === '>=' ? a >= b : undefined;
    return holds === undefined ? undefined : { holds };
  }

  #statement(place: Place, expr: unknown, branch: Branch, facts: NodeFacts, depth: number): 'continue' | { changed: Branch } | { steps: Step[] } {
    if (!isObject(expr)) return { changed: this.#notEvaluated(place, branch) };
    const [kind, arg] = Object.entries(expr)[0] ?? ['', undefined];
    const end = (result: End, action: string): { steps: Step[] } => {
      const by = this.#hit(place, action);
      return { steps: [{ kind: 'end', branch: withHit(branch, by), end: result, by }] };
    };
    switch (kind) {
      case 'accept': return end('accept', 'accept');
      case 'drop': return end('drop', 'drop');
      case 'reject': return end('reject', 'reject');
      case 'return': return { steps: [{ kind: 'return', branch }] };
      case 'continue': case 'counter': case 'log': case 'limit': case 'quota': case 'notrack': case 'set': case 'ct': case 'meta': case 'comment':
        return 'continue';
      case 'jump': case 'goto':
        return { steps: this.#jump(place, branch, { target: String((arg as { target?: unknown })?.target), goto: kind === 'goto' }, facts, depth) };
      case 'mangle': return this.#mangle(place, arg, branch, facts);
      case 'vmap': return this.#vmap(place, arg, branch, facts, depth);
      case 'dnat': return this.#dnat(place, arg, branch, facts);
      case 'snat': case 'masquerade': {
        const source = kind === 'masquerade' ? facts.masqueradeSource(branch.flow.oif, branch.flow.dst) : isObject(arg) && typeof arg.addr === 'string' ? arg.addr : undefined;
        const by = this.#hit(place, kind === 'snat' ? `SNAT to ${source}` : `masquerade${source ? ` to ${source}` : ''}`);
        return { steps: [{ kind: 'end', branch: withHit(withFlow(branch, { snat: true, ...(source ? { src: source } : {}) }), by), end: 'accept', by }] };
      }
      default:
        return { changed: this.#notEvaluated(place, branch) };
    }
  }

  #jump(place: Place, branch: Branch, to: { target: string; goto: boolean }, facts: NodeFacts, depth: number): Step[] {
    const chain = place.table.chains.get(to.target);
    if (!chain) return [{ kind: 'next', branch: withNote(branch, `nftables ${place.table.name}: chain "${to.target}" is missing`) }];
    const jumped = withHit(branch, this.#hit(place, `${to.goto ? 'goto' : 'jump'} ${to.target}`));
    return this.#chain(place.table, chain, jumped, facts, depth + 1).map((s): Step => (s.kind === 'return' ? { kind: to.goto ? 'return' : 'next', branch: s.branch } : s));
  }

  #mangle(place: Place, arg: unknown, branch: Branch, facts: NodeFacts): { changed: Branch } {
    const target = isObject(arg) && isObject(arg.key) && isObject(arg.key.meta) ? arg.key.meta.key : undefined;
    if (target !== 'mark') return { changed: branch };
    const [value] = evaluateKey((arg as { value?: unknown }).value, branch.flow, facts);
    const mark = value?.key[0];
    if (typeof mark !== 'number') return { changed: this.#notEvaluated(place, branch) };
    return { changed: withHit(withFlow(branch, { mark }), this.#hit(place, `mark 0x${mark.toString(16)}`)) };
  }

  #vmap(place: Place, arg: unknown, branch: Branch, facts: NodeFacts, depth: number): { steps: Step[] } {
    const key = isObject(arg) ? arg.key : undefined;
    const elements = isObject(arg) ? this.#setElements(place.table, arg.data) : undefined;
    const choices = evaluateKey(key, branch.flow, facts);
    if (!elements || choices.length === 0) return { steps: [{ kind: 'next', branch: this.#notEvaluated(place, branch) }] };
    const steps: Step[] = [];
    for (const choice of choices) {
      const part = { ...branch, probability: branch.probability * choice.probability };
      const entry = choice.key.includes(ABSENT) ? undefined : mapLookup(elements, choice.key as Atom[]);
      if (entry === undefined) steps.push({ kind: 'next', branch: part });
      else steps.push(...this.#verdict(this.#naming(place, entry.comment), entry.value, part, facts, depth));
    }
    return { steps };
  }

  #verdict(place: Place, verdict: unknown, branch: Branch, facts: NodeFacts, depth: number): Step[] {
    const [kind, arg] = typeof verdict === 'string' ? [verdict, undefined] : isObject(verdict) ? (Object.entries(verdict)[0] ?? ['', undefined]) : ['', undefined];
    if (kind === 'jump' || kind === 'goto') return this.#jump(place, branch, { target: String((arg as { target?: unknown })?.target), goto: kind === 'goto' }, facts, depth);
    if (kind === 'accept' || kind === 'drop') {
      const by = this.#hit(place, kind);
      return [{ kind: 'end', branch: withHit(branch, by), end: kind, by }];
    }
    if (kind === 'return') return [{ kind: 'return', branch }];
    return [{ kind: 'next', branch: this.#notEvaluated(place, branch) }];
  }

  /** The values map expression `expr` (`{"map": {"key", "data"}}`) yields for the flow, each with its probability and element comment; a miss yields none. */
  #mapValues(place: Place, expr: Record<string, unknown>, branch: Branch, facts: NodeFacts): MapValue[] {
    const map = expr.map as Record<string, unknown>;
    const elements = this.#setElements(place.table, map.data) ?? [];
    return evaluateKey(map.key, branch.flow, facts).flatMap((choice) => {
      const entry = choice.key.includes(ABSENT) ? undefined : mapLookup(elements, choice.key as Atom[]);
      return entry === undefined ? [] : [{ value: entry.value, probability: choice.probability, ...(entry.comment !== undefined ? { comment: entry.comment } : {}) }];
    });
  }

  /**
   * `dnat to ADDR[:PORT]`, or to what maps give: an `addr . port` value chosen by the key (numgen
   * forks it), or an address from one map and the port from another. A map miss ends the rule
   * without a match, as in the kernel.
   */
  #dnat(place: Place, arg: unknown, branch: Branch, facts: NodeFacts): { steps: Step[] } {
    if (!isObject(arg)) return { steps: [{ kind: 'next', branch: this.#notEvaluated(place, branch) }] };
    const targets: { ip: string; port?: number; probability: number; at: Place }[] = [];
    const ports: MapValue[] = typeof arg.port === 'number' ? [{ value: arg.port, probability: 1 }] : isObject(arg.port) && isObject(arg.port.map) ? this.#mapValues(place, arg.port, branch, facts) : [{ value: undefined, probability: 1 }];
    const target = (ip: string, port: MapValue, probability: number, comment: string | undefined) =>
      targets.push({ ip, ...(typeof port.value === 'number' ? { port: port.value } : {}), probability: probability * port.probability, at: this.#naming(place, comment ?? port.comment) });
    if (typeof arg.addr === 'string') for (const port of ports) target(arg.addr, port, 1, undefined);
    else if (isObject(arg.addr) && isObject(arg.addr.map)) {
      for (const address of this.#mapValues(place, arg.addr, branch, facts)) {
        const { value } = address;
        const parts = isObject(value) && Array.isArray(value.concat) ? value.concat : typeof value === 'string' ? [value] : undefined;
        if (!parts) continue;
        const [ip, own] = parts as [string, number?];
        for (const port of typeof own === 'number' ? [{ value: own, probability: 1 }] : ports) target(ip, port, address.probability, address.comment);
      }
    } else return { steps: [{ kind: 'next', branch: this.#notEvaluated(place, branch) }] };
    const matched = targets.reduce((sum, t) => sum + t.probability, 0);
    const steps: Step[] = targets.map((t) => {
      const by = this.#hit(t.at, `DNAT to ${t.ip}${t.port !== undefined ? `:${t.port}` : ''}${formatProbability(t.probability)}`);
      const taken = { ...branch, probability: branch.probability * t.probability };
      return { kind: 'end', branch: withHit(withFlow(taken, dnatTo(t)), by), end: 'accept', by };
    });
    if (matched < 1) steps.push({ kind: 'next', branch: { ...branch, probability: branch.probability * (1 - matched) } });
    return { steps };
  }
}
