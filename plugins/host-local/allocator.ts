import { compareIps, offsetIp, type IP } from '../../lib/ip.ts';
import { isAllocatable, rangeContains, type RangeSet } from './range.ts';

// Which address to try next, as the reference host-local does it: round robin per range set, starting
// after the last reserved address and wrapping once through every range of the set. Pure and lazy, so
// the first free address costs only the addresses before it, and exhaustion costs one pass (O(pool)).

/** Every allocatable address of the set, once, starting after `last` (or at the first range's start). */
export function* candidateOrder(set: RangeSet, last?: IP): Generator<IP> {
  const holder = last ? set.findIndex((range) => rangeContains(range, last)) : -1;
  // Positions are (range index, address); the walk begins at `last` itself and skips it, or at the set's start.
  let index = holder >= 0 ? holder : 0;
  let ip = holder >= 0 ? offsetIp(last!, 1n) : set[0]!.rangeStart;
  const total = set.reduce((sum, range) => sum + (range.rangeEnd.value - range.rangeStart.value + 1n), 0n);
  for (let step = 0n; step < total; step++) {
    if (compareIps(ip, set[index]!.rangeEnd) > 0) {
      index = (index + 1) % set.length;
      ip = set[index]!.rangeStart;
    }
    if (isAllocatable(set[index]!, ip)) yield ip;
    ip = offsetIp(ip, 1n);
  }
}

export interface AllocationView {
  /** The set's last_reserved_ip. */
  last?: IP;
  /** Values of the addresses already taken (the set is one family). */
  taken: ReadonlySet<bigint>;
}

/** The free addresses of the set in the order ADD should try them. */
export function* freeAddresses(set: RangeSet, view: AllocationView): Generator<IP> {
  for (const ip of candidateOrder(set, view.last)) {
    if (!view.taken.has(ip.value)) yield ip;
  }
}
