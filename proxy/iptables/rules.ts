import { formatMark } from '../core/config.ts';

// The vocabulary the rule families share: a rule is a line of iptables-restore text in one table and
// chain; helpers build the matches and targets every family repeats.

export type Table = 'nat' | 'filter';

export interface Rule {
  readonly table: Table;
  readonly chain: string;
  /** Everything after `-A CHAIN`. */
  readonly spec: string;
}

/** A chain's family: its name without the per-service hash, e.g. WEFT-SVC. Comments start with it. */
function family(chain: string): string {
  return chain.replace(/-[A-Z2-7]{16}$/, '');
}

/** Comments name the chain family and `namespace/name:port` so `iptables-save | grep NAME` finds a Service. */
export function comment(chain: string, text: string): string {
  return `-m comment --comment "${family(chain)} ${text.replaceAll('"', "'")}"`;
}

export function rule(table: Table, chain: string, ...parts: string[]): Rule {
  return { table, chain, spec: parts.filter((p) => p !== '').join(' ') };
}

export function host(ip: string): string {
  return `${ip}/32`;
}

export function destination(ip: string, protocol: string, port: number): string {
  return `-d ${host(ip)} -p ${protocol} --dport ${port}`;
}

export function setMark(mark: number): string {
  return `-j MARK --or-mark ${formatMark(mark)}`;
}

/** Matches for "addressed to this node": every local address, or the configured NodePort CIDRs (one rule each). */
export function nodeAddressMatches(nodePortAddresses: readonly string[]): string[] {
  return nodePortAddresses.length === 0 ? ['-m addrtype --dst-type LOCAL'] : nodePortAddresses.map((cidr) => `-d ${cidr}`);
}

/** The restore line of a rule, as one flat string (Array#join): a full sync keeps 200k of them until it writes them out. */
export function formatRule(r: Rule): string {
  return ['-A', r.chain, r.spec].join(' ');
}
