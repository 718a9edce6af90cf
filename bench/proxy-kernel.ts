import { createInterface } from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import { run } from '../lib/exec.ts';
import { RepeatedListing } from './netns-listing.ts';
import { epochMs, sleep } from './proxy-clock.ts';

// How the benchmark sees a rule reach a node's kernel. nftables (both proxies' nftables modes, and
// iptables-nft) reports every committed transaction to `nft monitor`: each line is stamped when it
// arrives, so the time is the commit's, whatever the table's size. iptables-legacy has no such
// events: its rules are listed in a loop, and the time is the end of the first listing that shows the
// rule (the poll interval bounds the error). An nftables full sync is seen by polling for its table's
// base chains (pollTable): a monitor listening makes the kernel build an event for every element of
// the commit. Polls run in a shell inside the node's namespace (netns-listing.ts), not spawned each time.

export interface Seen {
  readonly at: number;
  readonly line: string;
}

export class NftMonitor {
  readonly #child: ResultPromise;
  readonly #lines: Seen[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #listeners = new Set<(seen: Seen) => void>();

  private constructor(netns: string) {
    this.#child = execa('nsenter', [`--net=${netns}`, '--', 'nft', 'monitor'], { stdout: 'pipe', stderr: 'pipe', buffer: false, reject: false });
    createInterface({ input: this.#child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const seen = { at: epochMs(), line };
      this.#lines.push(seen);
      for (const listener of this.#listeners) listener(seen);
      // A long churn run keeps the recent past only.
      if (this.#lines.length > 200_000) this.#lines.splice(0, 100_000);
      for (const wake of this.#waiters) wake();
    });
  }

  /**
   * A monitor of `netns`, once it listens: nft reads the whole ruleset before it subscribes (seconds
   * at 10,000 Services), and starts that read over when the ruleset changes meanwhile. So a probe
   * table is added and deleted after ever longer quiet spells, until the monitor reports one.
   */
  static async start(netns: string): Promise<NftMonitor> {
    const monitor = new NftMonitor(netns);
    const deadline = epochMs() + 180_000;
    for (let probe = 0, quietMs = 500; epochMs() < deadline; probe++, quietMs = Math.min(quietMs * 2, 20_000)) {
      const table = `weft-bench-probe-${probe}`;
      const since = epochMs();
      await run('nft', ['add', 'table', 'ip', table], { netns });
      await run('nft', ['delete', 'table', 'ip', table], { netns });
      if (await monitor.waitFor((l) => l.startsWith(`add table ip ${table}`), since, epochMs() + quietMs)) return monitor;
    }
    await monitor.close();
    throw new Error(`cannot watch nftables in "${netns}": nft monitor reported nothing within 180 s`);
  }

  /** When the first line matching `match` arrived at or after `since`; undefined past `deadline`. */
  async waitFor(match: (line: string) => boolean, since: number, deadline: number): Promise<Seen | undefined> {
    let from = 0;
    for (;;) {
      for (; from < this.#lines.length; from++) {
        const seen = this.#lines[from] as Seen;
        if (seen.at >= since && match(seen.line)) return seen;
      }
      const left = deadline - epochMs();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
      // Lines may have been dropped from the front meanwhile.
      from = Math.min(from, this.#lines.length);
    }
  }

  /** Calls `listener` with every line from now on. */
  onLine(listener: (seen: Seen) => void): void {
    this.#listeners.add(listener);
  }

  async close(): Promise<void> {
    this.#child.kill('SIGTERM');
    await this.#child;
  }
}

/** Lists one chain of the nat table in `netns` until `present` holds; when the listing that showed it ended. */
export function pollChain(netns: string, command: { iptables: string; chain: string }, present: (listing: string) => boolean, timing: Timing): Promise<number | undefined> {
  // A chain that does not exist yet lists nothing.
  return pollListing(new RepeatedListing(netns, [command.iptables, '-w', '-t', 'nat', '-S', command.chain]), present, timing);
}

/** Whether the listing of `nft list chains` shows a base chain (one with a hook) in table `table`. */
export function tableHooked(chains: string, table: string): boolean {
  const start = chains.indexOf(`table ${table} {\n`);
  if (start < 0) return false;
  const end = chains.indexOf('\n}', start);
  return chains.slice(start, end < 0 ? undefined : end).includes(' hook ');
}

/**
 * When nftables table `table` ("ip weft") is first listed in `netns` with a base chain, which is when
 * traffic meets it (weft-proxy loads a fresh node's table in parts and its base chains last); undefined
 * past the deadline. `nft list chains` lists chains without their rules or elements: a few ms.
 */
export function pollTable(netns: string, table: string, timing: Timing): Promise<number | undefined> {
  return pollListing(new RepeatedListing(netns, ['nft', 'list', 'chains']), (chains) => tableHooked(chains, table), timing);
}

interface Timing {
  readonly deadline: number;
  readonly intervalMs: number;
}

/** When `present` first held of a listing, stamped at the end of that listing; undefined past the deadline. */
async function pollListing(listing: RepeatedListing, present: (listing: string) => boolean, timing: Timing): Promise<number | undefined> {
  try {
    while (epochMs() < timing.deadline) {
      const found = present(await listing.list());
      const at = epochMs();
      if (found) return at;
      await sleep(timing.intervalMs);
    }
    return undefined;
  } finally {
    await listing.close();
  }
}
