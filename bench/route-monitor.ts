import { openProcess, type OpenProcess } from '../lib/exec.ts';

// When a route appears in (or leaves) a node's kernel, seen from outside the daemon under test:
// `ip -tshort monitor route` in the node's namespace stamps each change as the kernel reports it,
// so weftd and flanneld are timed the same way. Both add a peer's route last (after its FDB entry and
// neighbour), so the route's arrival is the moment the peer is reachable.

export interface RouteEvent {
  dst: string;
  deleted: boolean;
  /** Wall-clock milliseconds since the epoch (the machine's clock is UTC). */
  at: number;
}

/** One `ip -ts monitor route` line: "[2026-12-01T22:06:15.263931] Deleted 10.1.0.0/24 dev lo ...". */
export function parseRouteEvent(line: string): RouteEvent | undefined {
  const match = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})\] (Deleted )?(\S+) /.exec(line);
  if (!match) return undefined;
  const at = Date.parse(`${match[1]}Z`) + Number(match[2]) / 1000;
  return { dst: match[4]!, deleted: match[3] !== undefined, at };
}

export class RouteMonitor {
  readonly #process: OpenProcess;
  readonly #events: RouteEvent[] = [];
  /** Routes present now (added and not deleted since). */
  readonly #routes = new Set<string>();
  readonly #listeners = new Set<() => void>();
  #partial = '';

  constructor(netns: string) {
    this.#process = openProcess('ip', ['-tshort', 'monitor', 'route'], { netns, onStderr: () => {}, onStdout: (text) => this.#read(text) });
  }

  #read(text: string): void {
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      const event = parseRouteEvent(line);
      if (!event) continue;
      this.#events.push(event);
      if (event.deleted) this.#routes.delete(event.dst);
      else this.#routes.add(event.dst);
    }
    for (const listener of this.#listeners) listener();
  }

  /** The first time after `since` the route to dst was added (or deleted), if it was. */
  seen(dst: string, options: { since: number; deleted?: boolean }): number | undefined {
    let first: number | undefined;
    // Events arrive in time order: only the newest few are after `since`.
    for (let i = this.#events.length - 1; i >= 0 && this.#events[i]!.at >= options.since; i--) {
      const event = this.#events[i]!;
      if (event.dst === dst && event.deleted === (options.deleted ?? false)) first = event.at;
    }
    return first;
  }

  /** Whether the route to dst is there now, as far as the monitor has seen. */
  has(dst: string): boolean {
    return this.#routes.has(dst);
  }

  /** Calls `check` after each change until it returns a value; throws naming `what` after timeoutMs. */
  static waitAll<T>(monitors: readonly RouteMonitor[], what: string, check: () => T | undefined, timeoutMs = 60_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (outcome: () => void): void => {
        clearTimeout(timer);
        for (const monitor of monitors) monitor.#listeners.delete(listener);
        outcome();
      };
      const listener = (): void => {
        const value = check();
        if (value !== undefined) done(() => resolve(value));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))), timeoutMs);
      for (const monitor of monitors) monitor.#listeners.add(listener);
      listener();
    });
  }

  stop(): Promise<void> {
    return this.#process.stop(0);
  }
}
