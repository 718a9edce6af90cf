import type { Protocol } from '../model/target.ts';

// One model for both rule engines: a packet's flow (addresses after the NAT so far, mark, devices),
// evaluated chain by chain. A rule that picks at random (`-m statistic`, `numgen`) forks the flow into
// weighted branches, so a Service's DNAT yields every endpoint it may choose with its probability.

export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
export type Engine = 'iptables-nft' | 'iptables-legacy' | 'nftables';

export interface Flow {
  readonly src: string;
  readonly dst: string;
  readonly sport?: number;
  readonly dport?: number;
  readonly proto: Protocol;
  readonly mark: number;
  readonly iif?: string;
  readonly oif?: string;
  /** The connection's destination was translated (conntrack status DNAT). */
  readonly dnat: boolean;
  /** Its source was translated (SNAT or masquerade). */
  readonly snat: boolean;
}

/** A rule that decided something, as evidence: where it is and what it did. */
export interface RuleHit {
  readonly engine: Engine;
  readonly table: string;
  readonly chain: string;
  /** The rule as its engine prints it (iptables-save line, nft statement). */
  readonly rule: string;
  /** What it did to this packet: "DNAT to 10.244.1.5:8080 (p=0.50)", "DROP", "jump WEFT-SVC-...". */
  readonly action: string;
  /** The Service port it acted for ("default/web:http"): named by the proxy's iptables rule comment, or by the comment of the nft set element it matched. */
  readonly service?: string;
}

export interface Branch {
  /** Of all packets of this kind, the share that take this branch. */
  readonly probability: number;
  readonly flow: Flow;
  readonly hits: readonly RuleHit[];
  /** What the evaluation could not decide for certain (an unknown match, an affinity list). */
  readonly notes: readonly string[];
}

export type End = 'accept' | 'drop' | 'reject';

/** How a base chain left one branch: its verdict, and the rule that gave it when a rule did. */
export interface Outcome {
  readonly branch: Branch;
  readonly end: End;
  readonly by?: RuleHit;
}

/** What a packet's evaluation may ask about the node: which addresses are its own. */
export interface NodeFacts {
  isLocal(ip: string): boolean;
  /** The address masquerade picks leaving through `dev` towards `dst`. */
  masqueradeSource(dev: string | undefined, dst: string): string | undefined;
}

/** A base chain of any engine, placed on a hook by its priority. */
export interface BaseChainRef {
  readonly engine: Engine;
  readonly table: string;
  readonly chain: string;
  readonly hook: Hook;
  readonly priority: number;
  /** nat chains run only until one of them translated the connection for their direction. */
  readonly nat: boolean;
}

export interface ChainEvaluator {
  readonly engine: Engine;
  baseChains(): BaseChainRef[];
  evaluate(chain: BaseChainRef, branch: Branch, facts: NodeFacts): Outcome[];
}

export function withHit(branch: Branch, hit: RuleHit): Branch {
  return { ...branch, hits: [...branch.hits, hit] };
}

export function withNote(branch: Branch, note: string): Branch {
  return branch.notes.includes(note) ? branch : { ...branch, notes: [...branch.notes, note] };
}

export function withFlow(branch: Branch, change: Partial<Flow>): Branch {
  return { ...branch, flow: { ...branch.flow, ...change } };
}

/** "10.244.1.5:8080" -> address and port; a bare address keeps the flow's port. */
export function splitHostPort(text: string): { ip: string; port?: number } {
  const [ip = '', port] = text.split(':');
  const n = port === undefined ? undefined : Number(port.split('-')[0]);
  return n === undefined || Number.isNaN(n) ? { ip } : { ip, port: n };
}

/** The DNAT destination change for a flow: new address, and port when given. */
export function dnatTo(to: { ip: string; port?: number }): Partial<Flow> {
  return { dst: to.ip, ...(to.port !== undefined ? { dport: to.port } : {}), dnat: true };
}

export function formatProbability(p: number): string {
  return p >= 0.9995 ? '' : ` (p=${p.toFixed(2)})`;
}

/** Too many random forks would make the output unreadable and the evaluation slow. */
export const MAX_BRANCHES = 256;
