import { cidrContains, compareIps, formatCidr, formatIp, lastAddress, networkAddress, sameIp, type Cidr, type IP } from '../../lib/ip.ts';

// A range is a span of one subnet that host-local hands out; a range set is the list of ranges one
// address per ADD comes from (one set per family, typically).

export interface Range {
  /** The subnet, as its network address and prefix length. */
  readonly subnet: Cidr;
  readonly rangeStart: IP;
  readonly rangeEnd: IP;
  /** Never allocated; reported in the result. */
  readonly gateway: IP;
}

export type RangeSet = readonly Range[];

export function rangeContains(range: Range, ip: IP): boolean {
  return cidrContains(range.subnet, ip) && compareIps(ip, range.rangeStart) >= 0 && compareIps(ip, range.rangeEnd) <= 0;
}

/** Whether an address in the range may be handed out: not the gateway, the network address or IPv4's broadcast. */
export function isAllocatable(range: Range, ip: IP): boolean {
  if (!rangeContains(range, ip) || sameIp(ip, range.gateway) || sameIp(ip, networkAddress(range.subnet))) return false;
  return ip.family === 6 || !sameIp(ip, lastAddress(range.subnet));
}

export function rangesOverlap(a: Range, b: Range): boolean {
  if (a.rangeStart.family !== b.rangeStart.family) return false;
  return compareIps(a.rangeStart, b.rangeEnd) <= 0 && compareIps(b.rangeStart, a.rangeEnd) <= 0;
}

/** The index of the range set holding ip, or -1. */
export function findRangeSet(sets: readonly RangeSet[], ip: IP): number {
  return sets.findIndex((set) => set.some((range) => rangeContains(range, ip)));
}

export function describeRangeSet(set: RangeSet): string {
  return set.map((r) => `${formatCidr(r.subnet)} (${formatIp(r.rangeStart)}-${formatIp(r.rangeEnd)})`).join(', ');
}
