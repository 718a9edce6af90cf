import { ipv4CidrContains, parseIpv4, parseIpv4Cidr } from '../../lib/ip.ts';

// A small packet tracer over rendered iptables-restore text, for readable tests: it walks a packet
// through nat PREROUTING/OUTPUT, the filter table and nat POSTROUTING and says what happens to it:
// "DNAT to 10.180.0.1:80 | 10.180.0.2:80 (masquerade)", "REJECT", "DROP" or "no match".
// `-m statistic` is read as "any of": every endpoint a rule could pick is listed. `--rcheck` never
// matches (no affinity history). Only what the renderer emits is understood; anything else throws.

export interface TracePacket {
  readonly src: string;
  readonly dst: string;
  readonly dport: number;
  readonly proto: 'tcp' | 'udp';
  /** A pod or an external host arrives through PREROUTING; the node's own traffic starts in OUTPUT. */
  readonly from: 'pod' | 'node' | 'external';
}

export interface TraceOptions {
  /** The node's addresses (what `-m addrtype --dst-type LOCAL` matches). */
  readonly localAddresses: readonly string[];
}

const WITH_ARGUMENT = new Set(['-s', '-d', '-p', '--dport', '-m', '--comment', '--mode', '--probability', '--name', '--seconds', '--dst-type', '--src-type', '--ctstate', '--mark']);

type Ruleset = Map<string, Map<string, string[][]>>;

export function tokenize(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

export function parseRestoreText(text: string): Ruleset {
  const tables: Ruleset = new Map();
  let chains = new Map<string, string[][]>();
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) tables.set(line.slice(1), (chains = new Map()));
    const [op, chain, ...rest] = tokenize(line);
    if ((op !== '-A' && op !== '-I') || !chain) continue;
    const rules = chains.get(chain) ?? [];
    chains.set(chain, rules);
    if (op === '-A') rules.push(rest);
    else rules.unshift(rest);
  }
  return tables;
}

interface Flow {
  src: string;
  dst: string;
  mark: number;
  dnat: boolean;
}

type Outcome = { kind: 'continue' } | { kind: 'stop'; verdict: string; to?: string };

function inCidr(ip: string, cidr: string): boolean {
  // iptables prints a single address without its "/32".
  const block = parseIpv4Cidr(cidr.includes('/') ? cidr : `${cidr}/32`);
  if (!block) throw new Error(`cannot trace: "${cidr}" is not an IPv4 CIDR`);
  const address = parseIpv4(ip);
  return address !== undefined && ipv4CidrContains(block, address);
}

class Tracer {
  readonly ruleset: Ruleset;
  readonly packet: TracePacket;
  readonly local: readonly string[];
  /** DNAT destinations a statistic rule could have chosen, besides the one finally taken. */
  readonly alternatives: string[] = [];
  constructor(ruleset: Ruleset, packet: TracePacket, options: TraceOptions) {
    this.ruleset = ruleset;
    this.packet = packet;
    this.local = options.localAddresses;
  }

  /** One match option: true or false, or undefined for options that only configure (comments, modes). */
  test(option: string, arg: string, flow: Flow): boolean | undefined {
    switch (option) {
      case '-s':
        return inCidr(flow.src, arg);
      case '-d':
        return inCidr(flow.dst, arg);
      case '-p':
        return arg === this.packet.proto;
      case '--dport':
        return Number(arg) === this.packet.dport;
      case '--dst-type':
        return this.local.includes(flow.dst);
      case '--src-type':
        return this.packet.from === 'node' || this.local.includes(flow.src);
      case '--ctstate':
        return arg.split(',').some((s) => s === 'NEW' || (s === 'DNAT' && flow.dnat));
      case '--mark': {
        const [value, mask] = arg.split('/').map(Number) as [number, number];
        return (flow.mark & mask) === value;
      }
      case '--rcheck':
        return false;
      case '-m': case '--comment': case '--mode': case '--probability': case '--name': case '--seconds': case '--reap': case '--rsource': case '--set':
        return undefined;
      default:
        throw new Error(`cannot trace: unknown match option "${option}"`);
    }
  }

  /** Evaluates a rule's matches; says whether it matched, whether a statistic match was involved, and returns the target tokens. */
  matches(tokens: readonly string[], flow: Flow): { matched: boolean; random: boolean; target: string[] } {
    let negate = false;
    let random = false;
    for (let i = 0; i < tokens.length; i++) {
      const option = tokens[i] as string;
      if (option === '-j') return { matched: true, random, target: tokens.slice(i + 1) };
      if (option === '!') {
        negate = true;
        continue;
      }
      const arg = WITH_ARGUMENT.has(option) ? (tokens[++i] ?? '') : '';
      if (option === '--probability') random = true;
      const ok = this.test(option, arg, flow);
      if (ok !== undefined && ok === negate) return { matched: false, random, target: [] };
      negate = false;
    }
    throw new Error(`cannot trace: rule without target: "${tokens.join(' ')}"`);
  }

  chain(table: string, name: string, flow: Flow, depth = 0): Outcome {
    if (depth > 16) throw new Error(`cannot trace: jumps nest deeper than 16 at "${name}"`);
    for (const tokens of this.ruleset.get(table)?.get(name) ?? []) {
      const { matched, random, target } = this.matches(tokens, flow);
      if (!matched) continue;
      const [verdict, ...opts] = target as [string, ...string[]];
      const option = (flag: string) => opts[opts.indexOf(flag) + 1] ?? '';
      if (verdict === 'MARK') {
        const or = opts.includes('--or-mark');
        flow.mark = or ? flow.mark | Number(option('--or-mark')) : flow.mark ^ Number(option('--xor-mark'));
        continue;
      }
      if (verdict === 'DNAT') {
        if (random) {
          this.alternatives.push(option('--to-destination'));
          continue;
        }
        return { kind: 'stop', verdict, to: option('--to-destination') };
      }
      if (verdict === 'RETURN') return { kind: 'continue' };
      if (['ACCEPT', 'DROP', 'REJECT', 'MASQUERADE'].includes(verdict)) return { kind: 'stop', verdict };
      const inner = this.chain(table, verdict, flow, depth + 1);
      if (inner.kind === 'stop') return inner;
    }
    return { kind: 'continue' };
  }

  run(): string {
    const p = this.packet;
    const flow: Flow = { src: p.src, dst: p.dst, mark: 0, dnat: false };
    const nat = this.chain('nat', p.from === 'node' ? 'OUTPUT' : 'PREROUTING', flow);
    const destinations = nat.kind === 'stop' && nat.verdict === 'DNAT' && nat.to ? [...this.alternatives, nat.to] : [];
    const firstIP = destinations[0]?.split(':')[0];
    const filterFlow = { ...flow, ...(firstIP ? { dst: firstIP, dnat: true } : {}) };
    const filterChain = p.from === 'node' ? 'OUTPUT' : this.local.includes(filterFlow.dst) ? 'INPUT' : 'FORWARD';
    const filter = this.chain('filter', filterChain, filterFlow);
    if (filter.kind === 'stop' && (filter.verdict === 'DROP' || filter.verdict === 'REJECT')) return filter.verdict;
    if (destinations.length === 0) return 'no match';
    const shown = destinations.map((to) => {
      const post = this.chain('nat', 'POSTROUTING', { ...flow, dst: to.split(':')[0] as string, dnat: true });
      return post.kind === 'stop' && post.verdict === 'MASQUERADE' ? `${to} (masquerade)` : to;
    });
    return `DNAT to ${shown.join(' | ')}`;
  }
}

export function tracePacket(restoreText: string, packet: TracePacket, options: TraceOptions): string {
  return new Tracer(parseRestoreText(restoreText), packet, options).run();
}
