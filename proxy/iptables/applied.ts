import { parseIpv4 } from '../../lib/ip.ts';
import type { DispatchLines } from './port-rules.ts';

// What this process's restores put into the dispatch and hairpin chains, kept between full syncs so a
// partial sync reads nothing back from the kernel: each Service's lines in the dispatch chains (a
// dispatch chain is rewritten whole, from these, only when a changed Service's lines differ) and the
// endpoint addresses the hairpin chain covers. A full sync starts it afresh.

/** A Service's lines in the three dispatch chains, each joined with newlines ('' for none). */
export interface ServiceDispatch {
  readonly services: string;
  readonly nodePorts: string;
  readonly verdicts: string;
}

export const NO_DISPATCH: ServiceDispatch = { services: '', nodePorts: '', verdicts: '' };

export function joinDispatch(lines: readonly DispatchLines[]): ServiceDispatch {
  const join = (pick: (d: DispatchLines) => readonly string[]) => lines.flatMap(pick).join('\n');
  const joined = { services: join((d) => d.services), nodePorts: join((d) => d.nodePorts), verdicts: join((d) => d.verdicts) };
  return joined.services === '' && joined.nodePorts === '' && joined.verdicts === '' ? NO_DISPATCH : joined;
}

/** What a successful partial sync changed: Services' new dispatch lines (NO_DISPATCH: gone) and new hairpin addresses. */
export interface AppliedChange {
  readonly dispatch: ReadonlyMap<string, ServiceDispatch>;
  readonly hairpin: readonly string[];
}

/** Addresses are kept as 32-bit integers: a set of 100k strings would cost several times more. */
function addressKey(ip: string): number {
  return (parseIpv4(ip) ?? 0) | 0;
}

export class AppliedRules {
  /** In the order the dispatch chains list them. */
  readonly #dispatch = new Map<string, ServiceDispatch>();
  readonly #hairpin = new Set<number>();

  dispatchOf(service: string): ServiceDispatch {
    return this.#dispatch.get(service) ?? NO_DISPATCH;
  }

  hasHairpin(ip: string): boolean {
    return this.#hairpin.has(addressKey(ip));
  }

  update(change: AppliedChange): void {
    for (const [service, lines] of change.dispatch) {
      if (lines === NO_DISPATCH) this.#dispatch.delete(service);
      else this.#dispatch.set(service, lines);
    }
    for (const ip of change.hairpin) this.#hairpin.add(addressKey(ip));
  }

  /** Every Service's lines of one dispatch chain, as `update(change)` would leave them, in order. */
  *linesAfter(change: AppliedChange, pick: keyof ServiceDispatch): IterableIterator<string> {
    for (const [service, lines] of this.#dispatch) {
      const text = (change.dispatch.get(service) ?? lines)[pick];
      if (text !== '') yield text;
    }
    for (const [service, lines] of change.dispatch) if (!this.#dispatch.has(service) && lines[pick] !== '') yield lines[pick];
  }
}
