import { ipv4CidrContains, parseIpv4, parseIpv4Cidr } from '../../lib/ip.ts';
import { dnatTo, formatProbability, splitHostPort, withFlow, withHit, withNote, type BaseChainRef, type Branch, type ChainEvaluator, type End, type Engine, type Hook, type NodeFacts, type Outcome, type RuleHit } from './flow.ts';
import type { IptablesRule, IptablesRuleset } from './iptables-ruleset.ts';
import { serviceOfRule } from './proxy-layout.ts';

// Walks a packet's flow through an iptables ruleset read from the kernel (`iptables-save`, either
// backend). Every match and target weft's components write is understood, and the common others;
// a rule with an option it does not know is reported as not evaluated (and as a possible drop when
// its target drops) instead of guessed. `-m statistic` forks the flow with the rule's probability;
// `-m recent --rcheck` (session affinity) never matches: a first packet has no history.

/** Built-in chains by table: their hook and the priority iptables registers them with. */
const BUILTIN: Record<string, Partial<Record<string, { hook: Hook; priority: number }>>> = {
  raw: { PREROUTING: { hook: 'prerouting', priority: -300 }, OUTPUT: { hook: 'output', priority: -300 } },
  mangle: {
    PREROUTING: { hook: 'prerouting', priority: -150 },
    INPUT: { hook: 'input', priority: -150 },
    FORWARD: { hook: 'forward', priority: -150 },
    OUTPUT: { hook: 'output', priority: -150 },
    POSTROUTING: { hook: 'postrouting', priority: -150 },
  },
  nat: {
    PREROUTING: { hook: 'prerouting', priority: -100 },
    OUTPUT: { hook: 'output', priority: -100 },
    INPUT: { hook: 'input', priority: 100 },
    POSTROUTING: { hook: 'postrouting', priority: 100 },
  },
  filter: { INPUT: { hook: 'input', priority: 0 }, FORWARD: { hook: 'forward', priority: 0 }, OUTPUT: { hook: 'output', priority: 0 } },
  security: { INPUT: { hook: 'input', priority: 50 }, FORWARD: { hook: 'forward', priority: 50 }, OUTPUT: { hook: 'output', priority: 50 } },
};

const WITH_VALUE = new Set([
  '-s', '-d', '-p', '-i', '-o', '-m', '--comment', '--mode', '--probability', '--every', '--packet', '--name', '--seconds', '--hitcount', '--mask',
  '--dst-type', '--src-type', '--ctstate', '--state', '--ctstatus', '--mark', '--dport', '--sport', '--dports', '--sports', '--destination-port', '--source-port',
]);
const WITHOUT_VALUE = new Set(['--rcheck', '--update', '--set', '--remove', '--reap', '--rsource', '--rdest', '--rttl', '--syn']);
/** Targets that do something to the packet and let it go on to the next rule. */
const NON_TERMINAL = new Set(['LOG', 'NFLOG', 'TRACE', 'CT', 'NOTRACK', 'CONNMARK', 'CHECKSUM', 'TCPMSS', 'AUDIT', 'CLASSIFY', 'DSCP', 'TOS', 'TTL']);
const MAX_DEPTH = 32;

type Step = { kind: 'next'; branch: Branch } | { kind: 'return'; branch: Branch } | { kind: 'end'; branch: Branch; end: End; by?: RuleHit };

function inCidr(ip: string, cidr: string): boolean | undefined {
  const block = parseIpv4Cidr(cidr.includes('/') ? cidr : `${cidr}/32`);
  const address = parseIpv4(ip);
  return block && address !== undefined ? ipv4CidrContains(block, address) : undefined;
}

function portIn(port: number | undefined, spec: string): boolean | undefined {
  if (port === undefined) return undefined;
  return spec.split(',').some((part) => {
    const [low, high = low] = part.split(':').map(Number) as [number, number?];
    return port >= low && port <= (high ?? low);
  });
}

function ifaceMatches(name: string | undefined, pattern: string): boolean {
  if (name === undefined) return false;
  return pattern.endsWith('+') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

function protoMatches(proto: string, arg: string): boolean {
  const number: Record<string, string> = { '6': 'tcp', '17': 'udp' };
  return arg === 'all' || arg === '0' || (number[arg] ?? arg) === proto;
}

/** `--set-xmark V/M`: mark = (mark & ~M) ^ V; the other MARK forms reduce to it. */
function applyMark(mark: number, target: readonly string[]): number | undefined {
  const option = (flag: string) => target[target.indexOf(flag) + 1] ?? '';
  const [value = 0, mask = 0xffffffff] = (target.includes('--set-xmark') ? option('--set-xmark') : target.includes('--set-mark') ? option('--set-mark') : '').split('/').map(Number);
  if (target.includes('--set-xmark')) return ((mark & ~mask) ^ value) >>> 0;
  if (target.includes('--set-mark')) return ((mark & ~mask) | value) >>> 0;
  if (target.includes('--or-mark')) return (mark | Number(option('--or-mark'))) >>> 0;
  if (target.includes('--xor-mark')) return (mark ^ Number(option('--xor-mark'))) >>> 0;
  if (target.includes('--and-mark')) return (mark & Number(option('--and-mark'))) >>> 0;
  return undefined;
}

function commentOf(tokens: readonly string[]): string | undefined {
  const at = tokens.indexOf('--comment');
  return at >= 0 ? tokens[at + 1] : undefined;
}

interface RuleMatch {
  /** undefined: an option this tracer does not evaluate. */
  readonly matched: boolean | undefined;
  readonly probability: number;
  readonly affinity: boolean;
  readonly unknown?: string;
  readonly target: readonly string[];
  readonly goto: boolean;
}

export class IptablesEvaluator implements ChainEvaluator {
  readonly engine: Engine;
  readonly #ruleset: IptablesRuleset;

  constructor(ruleset: IptablesRuleset, engine: 'iptables-nft' | 'iptables-legacy') {
    this.#ruleset = ruleset;
    this.engine = engine;
  }

  baseChains(): BaseChainRef[] {
    const refs: BaseChainRef[] = [];
    for (const [table, chains] of this.#ruleset) {
      for (const chain of chains.keys()) {
        const builtin = BUILTIN[table]?.[chain];
        if (builtin) refs.push({ engine: this.engine, table, chain, ...builtin, nat: table === 'nat' });
      }
    }
    return refs;
  }

  evaluate(ref: BaseChainRef, branch: Branch, facts: NodeFacts): Outcome[] {
    const policy = this.#ruleset.get(ref.table)?.get(ref.chain)?.policy ?? 'ACCEPT';
    return this.#chain(ref.table, ref.chain, branch, facts, 0).map((step): Outcome => {
      if (step.kind === 'end') return { branch: step.branch, end: step.end, ...(step.by ? { by: step.by } : {}) };
      if (policy === 'ACCEPT') return { branch: step.branch, end: 'accept' };
      const by = this.#hit(ref.table, ref.chain, `:${ref.chain} ${policy}`, `policy ${policy}`);
      return { branch: withHit(step.branch, by), end: 'drop', by };
    });
  }

  #hit(table: string, chain: string, rule: string, action: string): RuleHit {
    const service = serviceOfRule(rule);
    return { engine: this.engine, table, chain, rule, action, ...(service !== undefined ? { service } : {}) };
  }

  #match(rule: IptablesRule, branch: Branch, facts: NodeFacts): RuleMatch {
    const { flow } = branch;
    const tokens = rule.tokens;
    let negate = false;
    let probability = 1;
    let matched: boolean | undefined = true;
    let affinity = false;
    for (let i = 0; i < tokens.length; i++) {
      const option = tokens[i] as string;
      if (option === '-j' || option === '-g') return { matched, probability, affinity, target: tokens.slice(i + 1), goto: option === '-g' };
      if (option === '!') {
        negate = true;
        continue;
      }
      if (!WITH_VALUE.has(option) && !WITHOUT_VALUE.has(option)) return { matched: undefined, probability, affinity, unknown: option, target: this.#targetOf(tokens), goto: false };
      const arg = WITH_VALUE.has(option) ? (tokens[++i] ?? '') : '';
      let ok: boolean | undefined;
      switch (option) {
        case '-s': ok = inCidr(flow.src, arg); break;
        case '-d': ok = inCidr(flow.dst, arg); break;
        case '-p': ok = protoMatches(flow.proto, arg); break;
        case '-i': ok = ifaceMatches(flow.iif, arg); break;
        case '-o': ok = ifaceMatches(flow.oif, arg); break;
        case '--dport': case '--destination-port': case '--dports': ok = portIn(flow.dport, arg); break;
        case '--sport': case '--source-port': case '--sports': ok = portIn(flow.sport, arg); break;
        case '--dst-type': ok = arg.split(',').some((t) => (t === 'LOCAL' ? facts.isLocal(flow.dst) : t === 'UNICAST' ? !facts.isLocal(flow.dst) : false)); break;
        case '--src-type': ok = arg.split(',').some((t) => (t === 'LOCAL' ? facts.isLocal(flow.src) : t === 'UNICAST' ? true : false)); break;
        case '--ctstate': case '--state': ok = arg.split(',').some((s) => s === 'NEW' || (s === 'DNAT' && flow.dnat) || (s === 'SNAT' && flow.snat)); break;
        case '--ctstatus': ok = arg.split(',').some((s) => (s === 'DNAT' && flow.dnat) || (s === 'SNAT' && flow.snat)); break;
        case '--mark': {
          const [value = 0, mask = 0xffffffff] = arg.split('/').map(Number);
          ok = ((flow.mark & mask) >>> 0) === value;
          break;
        }
        case '--probability': probability = negate ? 1 - Number(arg) : Number(arg); negate = false; continue;
        case '--every': probability = 1 / Number(arg); continue;
        case '--rcheck': case '--update': affinity = true; ok = false; break;
        default: negate = false; continue; // options that configure a match (-m, --comment, --mode, --name, ...)
      }
      if (ok === undefined) return { matched: undefined, probability, affinity, unknown: `${option} ${arg}`.trim(), target: this.#targetOf(tokens), goto: false };
      if (ok === negate) matched = false;
      negate = false;
    }
    return { matched: false, probability, affinity, unknown: 'no target', target: [], goto: false };
  }

  #targetOf(tokens: readonly string[]): string[] {
    const at = tokens.findIndex((t) => t === '-j' || t === '-g');
    return at >= 0 ? tokens.slice(at + 1) : [];
  }

  #chain(table: string, chain: string, start: Branch, facts: NodeFacts, depth: number): Step[] {
    if (depth > MAX_DEPTH) return [{ kind: 'return', branch: withNote(start, `${this.engine} ${table}: jumps nest deeper than ${MAX_DEPTH} at "${chain}"; stopped there`) }];
    const rules = this.#ruleset.get(table)?.get(chain)?.rules ?? [];
    let active: Branch[] = [start];
    const finished: Step[] = [];
    for (const rule of rules) {
      const next: Branch[] = [];
      for (const branch of active) {
        const m = this.#match(rule, branch, facts);
        if (m.matched === undefined) {
          const drops = ['DROP', 'REJECT'].includes(m.target[0] ?? '');
          next.push(withNote(branch, `${this.engine} ${table} ${chain}: rule not evaluated (${m.unknown}): "${rule.line}"${drops ? '; it may drop this packet' : ''}`));
          continue;
        }
        const noted = m.affinity ? withNote(branch, `session affinity (${commentOf(rule.tokens) ?? chain}): a client seen before returns to its endpoint`) : branch;
        if (!m.matched) {
          next.push(noted);
          continue;
        }
        if (m.probability < 1) next.push({ ...noted, probability: noted.probability * (1 - m.probability) });
        const taken = m.probability < 1 ? { ...noted, probability: noted.probability * m.probability } : noted;
        for (const step of this.#target(table, chain, rule, { taken, target: m.target, goto: m.goto, probability: m.probability }, facts, depth)) {
          if (step.kind === 'next') next.push(step.branch);
          else finished.push(step);
        }
      }
      active = next;
      if (active.length === 0) break;
    }
    return [...finished, ...active.map((branch): Step => ({ kind: 'return', branch }))];
  }

  #target(table: string, chain: string, rule: IptablesRule, m: { taken: Branch; target: readonly string[]; goto: boolean; probability: number }, facts: NodeFacts, depth: number): Step[] {
    const [verdict = '', ...opts] = m.target;
    const { taken } = m;
    const { flow } = taken;
    const option = (flag: string) => opts[opts.indexOf(flag) + 1] ?? '';
    const hit = (action: string) => this.#hit(table, chain, rule.line, action);
    switch (verdict) {
      case 'ACCEPT': case 'DROP': case 'REJECT': {
        const by = hit(verdict);
        const end: End = verdict === 'ACCEPT' ? 'accept' : verdict === 'DROP' ? 'drop' : 'reject';
        return [{ kind: 'end', branch: withHit(taken, by), end, by }];
      }
      case 'RETURN':
        return [{ kind: 'return', branch: taken }];
      case 'DNAT': {
        const to = splitHostPort(option('--to-destination'));
        const by = hit(`DNAT to ${option('--to-destination')}${formatProbability(m.probability)}`);
        return [{ kind: 'end', branch: withHit(withFlow(taken, dnatTo(to)), by), end: 'accept', by }];
      }
      case 'SNAT': case 'MASQUERADE': {
        const source = verdict === 'SNAT' ? splitHostPort(option('--to-source')).ip : facts.masqueradeSource(flow.oif, flow.dst);
        const by = hit(verdict === 'SNAT' ? `SNAT to ${source}` : `masquerade${source ? ` to ${source}` : ''}`);
        return [{ kind: 'end', branch: withHit(withFlow(taken, { snat: true, ...(source ? { src: source } : {}) }), by), end: 'accept', by }];
      }
      case 'MARK': {
        const mark = applyMark(flow.mark, opts);
        if (mark === undefined) return [{ kind: 'next', branch: withNote(taken, `${this.engine} ${table} ${chain}: MARK form not understood: "${rule.line}"`) }];
        return [{ kind: 'next', branch: withHit(withFlow(taken, { mark }), hit(`mark 0x${mark.toString(16)}`)) }];
      }
      default:
        break;
    }
    if (NON_TERMINAL.has(verdict)) return [{ kind: 'next', branch: taken }];
    if (!this.#ruleset.get(table)?.has(verdict)) return [{ kind: 'next', branch: withNote(taken, `${this.engine} ${table} ${chain}: target "${verdict}" not evaluated: "${rule.line}"`) }];
    const jumped = withHit(taken, hit(`${m.goto ? 'goto' : 'jump'} ${verdict}`));
    return this.#chain(table, verdict, jumped, facts, depth + 1).map((step): Step => (step.kind === 'return' ? { kind: m.goto ? 'return' : 'next', branch: step.branch } : step));
  }
}
