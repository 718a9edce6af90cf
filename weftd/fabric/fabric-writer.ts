import type { LinkRequestError } from '../../lib/netlink/route-socket.ts';
import { RouteSocket } from '../../lib/netlink/route-socket.ts';
import type { FabricCommands, FabricRequest } from './fabric-plan.ts';

// Applies fabric changes over one rtnetlink socket for the life of weftd: a lease event costs the
// daemon one wake-up and a few system calls, where programs fed lines (`ip -batch`, `bridge -batch`)
// cost each of them a wake-up, a parse and a reply per event on every node sharing the cores. The
// kernel does each request inside the write, so the requests go one after another in the plan's
// order (per peer: FDB entry, neighbour, route).

export interface FabricApplied {
  /** Removals that failed for another reason than the entry being gone already. */
  removalErrors: string[];
}

/** What the writer needs of the socket (lib/netlink/route-socket.ts; a fake in unit tests). */
export interface RequestApplier {
  applyEach(requests: readonly FabricRequest[]): LinkRequestError[];
  forget(link: string): void;
  close(): void;
}

export class FabricWriter {
  readonly #open: () => RequestApplier;
  #socket: RequestApplier | undefined;

  constructor(open: () => RequestApplier = () => RouteSocket.open()) {
    this.#open = open;
  }

  #applier(): RequestApplier {
    this.#socket ??= this.#open();
    return this.#socket;
  }

  /**
   * Removals first (an entry already gone is the goal reached), then additions. Every request is
   * tried; the first addition refused is thrown, naming the others refused.
   */
  apply(commands: FabricCommands): FabricApplied {
    const applier = this.#applier();
    const removalErrors = applier
      .applyEach(commands.remove)
      .filter((error) => !error.missing)
      .map((error) => error.message);
    const [first, ...more] = applier.applyEach(commands.add);
    if (first) {
      if (more.length) first.message += ` (and ${more.length} more: ${more.map((error) => error.message).join('; ')})`;
      throw first;
    }
    return { removalErrors };
  }

  /** Opens the socket now, so a node without the netlink addon stops weftd at its start. */
  open(): void {
    this.#applier();
  }

  /** A device made anew under the same name has a new index: the next request looks it up again. */
  deviceMade(device: string): void {
    this.#socket?.forget(device);
  }

  /** Closes the socket; the next apply opens another. */
  close(): void {
    this.#socket?.close();
    this.#socket = undefined;
  }
}
