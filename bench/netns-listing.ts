import { openProcess, type OpenProcess } from '../lib/exec.ts';

// A listing command (`nft list chains`, `iptables -S CHAIN`) run again and again inside a node's
// namespace by one shell started there, so that a poll costs the command alone. Spawning `nsenter`
// and the command from the benchmark for every poll took 23.5 ms and ~28 ms of CPU per poll here
// (the benchmark's own spawn, nsenter, the command), against ~6 ms for `nft list chains` run by a
// shell: polled every 20 ms on 2 cores, that took a third of the machine from the proxy measured.

/** Ends each listing on the shell's stdout; no listing prints it. */
const END = '@@weft-bench-listing-end@@';

/** Everything of `buffer` before the first end mark, and what follows the mark; undefined while no listing is complete. */
export function splitListing(buffer: string): { listing: string; rest: string } | undefined {
  const at = buffer.indexOf(`\n${END}\n`);
  if (at < 0) return undefined;
  return { listing: buffer.slice(0, at), rest: buffer.slice(at + END.length + 2) };
}

export class RepeatedListing {
  readonly #shell: OpenProcess;
  #buffer = '';
  #waiting: { resolve: (listing: string) => void; reject: (error: Error) => void } | undefined;
  #ended: Error | undefined;

  /** A shell in `netns` that runs `command` (its stdout kept, its stderr dropped) each time it is asked. */
  constructor(netns: string, command: readonly string[]) {
    const script = `while read -r _; do "$@" 2>/dev/null; printf '\\n%s\\n' '${END}'; done`;
    this.#shell = openProcess('sh', ['-c', script, 'listing', ...command], {
      netns,
      onStderr: () => {},
      onStdout: (text) => {
        this.#buffer += text;
        const split = splitListing(this.#buffer);
        if (!split || !this.#waiting) return;
        this.#buffer = split.rest;
        const { resolve } = this.#waiting;
        this.#waiting = undefined;
        resolve(split.listing);
      },
    });
    void this.#shell.exited.then(({ code }) => {
      this.#ended = new Error(`the listing shell in "${netns}" exited with ${code}`);
      this.#waiting?.reject(this.#ended);
      this.#waiting = undefined;
    });
  }

  /** Runs the command once more; resolves with what it printed. One listing at a time. */
  list(): Promise<string> {
    if (this.#ended) return Promise.reject(this.#ended);
    if (this.#waiting) return Promise.reject(new Error('a listing is already running'));
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#shell.write('\n');
    });
  }

  async close(): Promise<void> {
    await this.#shell.stop();
  }
}
