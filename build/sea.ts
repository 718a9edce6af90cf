import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runChecked } from '../lib/exec.ts';

// The single executable: Node's own `--build-sea` (Node >= 25.5) injects the bundle into a copy of
// the pinned Node binary. The copy is stripped first (150 MB -> 116 MB; debug info is never used on a
// node), and V8's code cache is embedded so a start skips compiling the bundle.

export interface SeaOptions {
  /** The Node binary to embed; it must be the same version as the one running --build-sea. */
  node: string;
  /** Where the stripped copy of `node` is kept between builds. */
  cacheDir: string;
  /** Directory for the generated sea-config.json. */
  workDir: string;
  /** Files embedded as SEA assets, by asset name. */
  assets?: Record<string, string>;
  /** The V8 flags the executable starts with (SEA_EXEC_ARGV or CNI_EXEC_ARGV). */
  execArgv: readonly string[];
}

async function strippedNode(node: string, cacheDir: string): Promise<string> {
  const version = (await runChecked(node, ['--version'])).stdout.trim();
  const stripped = join(cacheDir, `node-${version}-stripped`);
  if (existsSync(stripped)) return stripped;
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  const partial = `${stripped}.partial`;
  copyFileSync(node, partial);
  await runChecked('strip', ['--strip-all', partial]);
  chmodSync(partial, 0o700);
  renameSync(partial, stripped);
  return stripped;
}

/** The V8 flags the executable runs with; every code cache built for it is compiled under them. */
export const SEA_EXEC_ARGV = ['--max-semi-space-size=4', '--expose-gc'];

/**
 * The CNI plugins' executable keeps the hash seed of Node's own start-up snapshot instead of drawing a
 * random one and rehashing every table of the snapshot with it: a fifth of Node's start-up here (bare
 * Node 26: 38 -> 28-32 ms of CPU), and what keeps ten parallel ADDs within 2.5x of the reference's
 * (docs/PERFORMANCE.md). A known seed lets whoever chooses a process's string keys make them collide
 * (hash flooding): a CNI call's input comes from the container runtime, root on the node, while the
 * daemons and kubectl-weft read API objects any tenant writes, so they keep a random seed.
 */
export const CNI_EXEC_ARGV = [...SEA_EXEC_ARGV, '--no-rehash-snapshot'];

export async function buildSea(main: string, output: string, options: SeaOptions): Promise<void> {
  const config = join(options.workDir, `sea-config-${basename(output)}.json`);
  const sea = {
    main,
    mainFormat: 'commonjs',
    executable: await strippedNode(options.node, options.cacheDir),
    output,
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
    // V8 otherwise lets its young generation grow to tens of MiB after a burst of allocation (a proxy's
    // full sync) and keeps it: 4 MiB semi-spaces halve weft-proxy's committed heap at 10,000 Services
    // without slowing its syncs (docs/PERFORMANCE.md); short CNI calls never reach that size.
    // --expose-gc lets weft-proxy hand a full sync's garbage back at once (proxy/daemon.ts).
    execArgv: options.execArgv,
    assets: options.assets ?? {},
  };
  writeFileSync(config, `${JSON.stringify(sea, null, 2)}\n`, { mode: 0o600 });
  // The code cache is compiled under the builder's V8 flags; built under others, V8 rejects it at every start.
  await runChecked(options.node, [...options.execArgv, '--build-sea', config]);
  chmodSync(output, 0o700);
  await dropPageCache(output);
}

/**
 * Writes the new executable to disk and drops it from the page cache. Freshly written, it sits in
 * large page-cache folios, and the kernel maps a whole folio into a process on its first touch: every
 * call then counted about twice the resident memory (docs/PERFORMANCE.md). Read back
 * from disk, it is cached page by page again.
 */
async function dropPageCache(file: string): Promise<void> {
  await runChecked('dd', [`of=${file}`, 'oflag=nocache', 'conv=notrunc,fdatasync', 'count=0', 'status=none']);
}
