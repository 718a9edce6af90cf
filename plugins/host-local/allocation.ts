import type { Attachment } from '../cni/types.ts';
import type { IP } from '../../lib/ip.ts';

// What the allocation store holds and the narrow interface ADD, DEL, CHECK, STATUS and GC use.
// store.ts keeps it on disk in the reference plugin's format; unit tests use an in-memory one.

export type Owner = Attachment;

export interface Allocation {
  readonly ip: IP;
  /** Absent while the allocating process is still writing it (the address is taken all the same). */
  readonly owner?: Owner;
}

export interface AllocationStore {
  /** Every address taken in this network. */
  list(): Allocation[];
  /** Claims ip for owner; false when someone holds it already. Atomic across processes. */
  reserve(ip: IP, owner: Owner): boolean;
  /** Frees ip; freeing a free address is fine. */
  release(ip: IP): void;
  lastReserved(rangeSet: number): IP | undefined;
  setLastReserved(rangeSet: number, ip: IP): void;
}

function sameOwner(a: Owner, b: Owner): boolean {
  return a.containerId === b.containerId && a.ifname === b.ifname;
}

export function heldBy(allocations: readonly Allocation[], owner: Owner): IP[] {
  return allocations.filter((a) => a.owner && sameOwner(a.owner, owner)).map((a) => a.ip);
}

/** The allocations GC frees: owned by no attachment the runtime still uses. */
export function orphaned(allocations: readonly Allocation[], valid: readonly Attachment[]): IP[] {
  const keep = new Set(valid.map((v) => `${v.containerId}\n${v.ifname}`));
  return allocations.filter((a) => a.owner && !keep.has(`${a.owner.containerId}\n${a.owner.ifname}`)).map((a) => a.ip);
}
