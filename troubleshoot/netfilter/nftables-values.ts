import { ipv4CidrContains, parseIpv4, parseIpv4Cidr } from '../../lib/ip.ts';
import { isObject } from '../../lib/json.ts';
import type { Flow, NodeFacts } from './flow.ts';

// Values of nftables expressions for one flow, and how set and map elements compare with them, as
// nft's JSON writes both. `numgen random mod N` has no single value: it yields N equally likely ones,
// which is how the evaluator forks a Service's flow over its endpoints.

export type Atom = string | number;

/** The packet lacks the field (a tcp port of a udp packet): the match fails, as in the kernel. */
export const ABSENT: unique symbol = Symbol('absent');
type Value = Atom | typeof ABSENT;
type Choice = { value: Value; probability: number };

const PROTOCOL_NUMBERS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17 };

/** Canonical text of an atom, so "tcp" equals 6 and "0x00004000" equals 16384. */
export function canonical(atom: Atom): string {
  if (typeof atom === 'number') return String(atom);
  if (atom in PROTOCOL_NUMBERS) return String(PROTOCOL_NUMBERS[atom]);
  if (/^0x[0-9a-f]+$/i.test(atom)) return String(Number(atom));
  return atom;
}

function payload(p: Record<string, unknown>, flow: Flow): Value | undefined {
  const { protocol, field } = p;
  if (protocol === 'ip') return field === 'saddr' ? flow.src : field === 'daddr' ? flow.dst : field === 'protocol' ? flow.proto : undefined;
  if (protocol === 'th' || protocol === flow.proto) return field === 'dport' ? (flow.dport ?? ABSENT) : field === 'sport' ? (flow.sport ?? ABSENT) : undefined;
  if (protocol === 'tcp' || protocol === 'udp') return ABSENT;
  return undefined;
}

function meta(key: unknown, flow: Flow): Value | undefined {
  switch (key) {
    case 'l4proto': return flow.proto;
    case 'protocol': return 'ip';
    case 'nfproto': return 'ipv4';
    case 'mark': return flow.mark;
    case 'iifname': case 'iif': return flow.iif ?? ABSENT;
    case 'oifname': case 'oif': return flow.oif ?? ABSENT;
    default: return undefined;
  }
}

function binary(op: string, [a, b]: readonly (Value | undefined)[]): Atom | undefined {
  if (typeof a !== 'number' || typeof b !== 'number') return undefined;
  return op === '&' ? (a & b) >>> 0 : op === '|' ? (a | b) >>> 0 : (a ^ b) >>> 0;
}

/** One expression's possible values with their probabilities; [] when not understood. */
function evaluateExpr(expr: unknown, flow: Flow, facts: NodeFacts): Choice[] {
  if (typeof expr === 'string' || typeof expr === 'number') return [{ value: expr, probability: 1 }];
  if (!isObject(expr)) return [];
  const single = (value: Value | undefined): Choice[] => (value === undefined ? [] : [{ value, probability: 1 }]);
  if (isObject(expr.payload)) return single(payload(expr.payload, flow));
  if (isObject(expr.meta)) return single(meta(expr.meta.key, flow));
  if (isObject(expr.ct)) return single(expr.ct.key === 'state' ? 'new' : expr.ct.key === 'status' ? (flow.dnat ? 'dnat' : flow.snat ? 'snat' : '') : undefined);
  if (isObject(expr.fib) && expr.fib.result === 'type') {
    const flags = Array.isArray(expr.fib.flags) ? expr.fib.flags : [];
    const address = flags.includes('saddr') ? flow.src : flow.dst;
    return single(facts.isLocal(address) ? 'local' : 'unicast');
  }
  if (isObject(expr.numgen) && expr.numgen.mode === 'random') {
    const mod = Number(expr.numgen.mod);
    const offset = Number(expr.numgen.offset ?? 0);
    return Array.from({ length: mod }, (_, i) => ({ value: i + offset, probability: 1 / mod }));
  }
  for (const op of ['&', '|', '^']) {
    const operands = expr[op];
    if (Array.isArray(operands)) return single(binary(op, operands.map((o) => evaluateExpr(o, flow, facts)[0]?.value)));
  }
  return [];
}

/** The possible keys of an expression (a concatenation multiplies its parts' choices); [] when not understood. */
export function evaluateKey(expr: unknown, flow: Flow, facts: NodeFacts): { key: Value[]; probability: number }[] {
  const parts = isObject(expr) && Array.isArray(expr.concat) ? expr.concat : [expr];
  let choices: { key: Value[]; probability: number }[] = [{ key: [], probability: 1 }];
  for (const part of parts) {
    const values = evaluateExpr(part, flow, facts);
    if (values.length === 0) return [];
    choices = choices.flatMap((c) => values.map((v) => ({ key: [...c.key, v.value], probability: c.probability * v.probability })));
  }
  return choices;
}

function atomMatches(pattern: unknown, atom: Atom): boolean {
  if (typeof pattern === 'string' && pattern.endsWith('*') && typeof atom === 'string') return atom.startsWith(pattern.slice(0, -1));
  if (typeof pattern === 'string' || typeof pattern === 'number') return canonical(pattern) === canonical(atom);
  if (!isObject(pattern)) return false;
  if (isObject(pattern.prefix)) {
    const block = parseIpv4Cidr(`${pattern.prefix.addr}/${pattern.prefix.len}`);
    const address = typeof atom === 'string' ? parseIpv4(atom) : undefined;
    return block !== undefined && address !== undefined && ipv4CidrContains(block, address);
  }
  if (Array.isArray(pattern.range)) {
    const [low, high] = pattern.range as [unknown, unknown];
    if (typeof atom === 'number') return atom >= Number(low) && atom <= Number(high);
    const a = parseIpv4(atom);
    const [l, h] = [parseIpv4(String(low)), parseIpv4(String(high))];
    return a !== undefined && l !== undefined && h !== undefined && a >= l && a <= h;
  }
  if (isObject(pattern.elem)) return atomMatches(pattern.elem.val, atom);
  return false;
}

/** The key of a set element or map element as a list of parts (one unless a concatenation), without its comment. */
export function elementKeyParts(element: unknown): unknown[] {
  const key = keyOf(Array.isArray(element) ? element[0] : element);
  return isObject(key) && Array.isArray(key.concat) ? key.concat : [key];
}

/** A set element (or a map element's key) without the `{"elem": {"val": ...}}` wrapper a comment or timeout puts around it. */
function keyOf(element: unknown): unknown {
  return isObject(element) && isObject(element.elem) ? element.elem.val : element;
}

/** Whether a set element (or a map element's key) holds `key`. */
export function elementMatches(element: unknown, key: readonly Atom[]): boolean {
  const pattern = keyOf(element);
  if (isObject(pattern) && Array.isArray(pattern.concat)) return pattern.concat.length === key.length && pattern.concat.every((p, i) => atomMatches(p, key[i] as Atom));
  return key.length === 1 && atomMatches(pattern, key[0] as Atom);
}

/** The comment of a set element or map element (`{"elem": {"val": ..., "comment": ...}}`), if it has one. */
export function elementComment(element: unknown): string | undefined {
  const key = Array.isArray(element) ? element[0] : element;
  return isObject(key) && isObject(key.elem) && typeof key.elem.comment === 'string' ? key.elem.comment : undefined;
}

/** The set element holding `key` (or the map element, when a map is looked up as a set), or undefined. */
export function findElement(elements: readonly unknown[], key: readonly Atom[]): unknown {
  return elements.find((e) => elementMatches(Array.isArray(e) ? e[0] : e, key));
}

/** What a map holds for `key`: the value, and the element's comment; undefined when absent. */
export function mapLookup(elements: readonly unknown[], key: readonly Atom[]): { value: unknown; comment?: string } | undefined {
  for (const element of elements) {
    if (!Array.isArray(element) || !elementMatches(element[0], key)) continue;
    const comment = elementComment(element);
    return { value: element[1], ...(comment !== undefined ? { comment } : {}) };
  }
  return undefined;
}
