import { openProcess, type OpenProcess } from '../../lib/exec.ts';
import { loaderEnvironment } from '../core/loader-environment.ts';

// A long-lived `nft -i` for partial syncs. A fresh `nft -f` reads the kernel's whole table before it
// applies anything, and at 10,000 Services that is most of an endpoint change's time; an interactive
// nft keeps what it read between transactions. Each transaction is one input line (one batch,
// applied atomically), followed by a marker command that always fails, naming a table that never
// exists: nft answers each line in order on stderr, so whatever it printed before the marker's error
// belongs to the transaction, and nothing means success.

const MARKER_TABLE = 'weft-sync-done-';
const TIMEOUT_MS = 30_000;

export class NftSessionError extends Error {
  constructor(detail: string) {
    super(`cannot apply nftables rules: ${detail}`);
    this.name = 'NftSessionError';
  }
}

/** One line holding every command of a payload: nft runs a line as one transaction. */
export function asOneLine(payload: string): string {
  return payload
    .split('\n')
    .filter((l) => l.trim() !== '')
    .join('; ');
}

/** What nft said about the transaction before marker `n`, and the rest of the stream after it; undefined until the marker's answer is complete. */
export function splitAtMarker(stderr: string, n: number): { said: string; rest: string } | undefined {
  const echo = `delete table ip ${MARKER_TABLE}${n}\n`;
  const at = stderr.indexOf(echo);
  if (at < 0) return undefined;
  // The marker's answer: "Error: ...\n<the command>\n<carets>\n".
  const errorLine = stderr.lastIndexOf('Error:', at);
  const caretsEnd = stderr.indexOf('\n', at + echo.length);
  if (caretsEnd < 0) return undefined;
  return { said: stderr.slice(0, errorLine < 0 ? at : errorLine).trim(), rest: stderr.slice(caretsEnd + 1) };
}

export class NftSession {
  readonly #netns: string | undefined;
  #process: OpenProcess | undefined;
  #stderr = '';
  #next = 0;
  #waiting: { n: number; resolve: (said: string) => void; reject: (e: Error) => void } | undefined;

  constructor(options: { netns?: string } = {}) {
    this.#netns = options.netns;
  }

  #start(): OpenProcess {
    this.#stderr = '';
    const started = openProcess('nft', ['-i'], {
      ...(this.#netns ? { netns: this.#netns } : {}),
      env: loaderEnvironment(),
      onStderr: (text) => {
        this.#stderr += text;
        const w = this.#waiting;
        const split = w && splitAtMarker(this.#stderr, w.n);
        if (!w || !split) return;
        this.#stderr = split.rest;
        this.#waiting = undefined;
        w.resolve(split.said);
      },
    });
    void started.exited.then(({ code }) => {
      if (this.#process === started) this.#process = undefined;
      this.#waiting?.reject(new NftSessionError(`nft -i exited with ${code}: ${this.#stderr.trim().slice(0, 300)}`));
      this.#waiting = undefined;
    });
    return started;
  }

  /** Applies `payload` as one transaction; throws with what nft said when it refused it (nothing changes then). */
  async apply(payload: string): Promise<void> {
    if (this.#waiting) throw new NftSessionError('a transaction is still running');
    const nft = (this.#process ??= this.#start());
    const n = this.#next++;
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<string>((resolve, reject) => {
      this.#waiting = { n, resolve, reject };
      timer = setTimeout(() => {
        this.#waiting = undefined;
        this.close();
        reject(new NftSessionError(`nft -i did not answer within ${TIMEOUT_MS / 1000} s`));
      }, TIMEOUT_MS);
    });
    nft.write(`${asOneLine(payload)}\ndelete table ip ${MARKER_TABLE}${n}\n`);
    const said = await answered.finally(() => clearTimeout(timer));
    if (said !== '') throw new NftSessionError(said.split('\n').slice(0, 6).join('; '));
  }

  close(): void {
    void this.#process?.stop();
    this.#process = undefined;
  }
}
