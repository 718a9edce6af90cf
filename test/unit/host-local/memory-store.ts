import { formatIp, parseIp, type IP } from '../../../lib/ip.ts';
import type { Allocation, AllocationStore, Owner } from '../../../plugins/host-local/allocation.ts';

/** The allocation store in memory, for unit tests; `failReserveAfter` injects a write failure. */
export class MemoryStore implements AllocationStore {
  readonly owners = new Map<string, Owner>();
  readonly last = new Map<number, IP>();
  failReserveAfter = Infinity;

  list(): Allocation[] {
    return [...this.owners].map(([ip, owner]) => ({ ip: parseIp(ip)!, owner }));
  }
  reserve(ip: IP, owner: Owner): boolean {
    if (this.failReserveAfter-- <= 0) throw new Error('disk full');
    const key = formatIp(ip);
    if (this.owners.has(key)) return false;
    this.owners.set(key, owner);
    return true;
  }
  release(ip: IP): void {
    this.owners.delete(formatIp(ip));
  }
  lastReserved(rangeSet: number): IP | undefined {
    return this.last.get(rangeSet);
  }
  setLastReserved(rangeSet: number, ip: IP): void {
    this.last.set(rangeSet, ip);
  }
  /** The addresses held, sorted, as strings. */
  addresses(): string[] {
    return [...this.owners.keys()].sort();
  }
}
