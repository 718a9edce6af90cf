import { chmodSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';

// Two CommonJS bundles for the single executable (a SEA's main script cannot load files at run time):
// the main one holds the dispatcher and the CNI plugins; the daemons' one (weftd, weft-proxy, with the
// Kubernetes client) is embedded as an asset and evaluated only when a daemon starts. Within the main
// bundle esbuild keeps each dynamically imported command behind a lazy initialiser.

const ROOT = resolve(import.meta.dirname, '..');

/** In the main bundle, bin/load-daemons.ts becomes the loader that reads the embedded asset. */
const seaDaemonLoader: Plugin = {
  name: 'sea-daemon-loader',
  setup(b) {
    b.onResolve({ filter: /\/load-daemons\.ts$/ }, () => ({ path: resolve(ROOT, 'build/sea-load-daemons.ts') }));
  },
};

/**
 * Node decodes an embedded bundle as UTF-8 at every start, and one non-ASCII character takes the whole
 * 2 MB daemons bundle off the decoder's ASCII fast path (~40 ms per daemon start, measured).
 */
export function firstNonAscii(bytes: Uint8Array): number {
  return bytes.findIndex((b) => b > 0x7f);
}

function assertAscii(file: string): void {
  const bytes = readFileSync(file);
  const at = firstNonAscii(bytes);
  if (at >= 0) throw new Error(`cannot bundle: "${file}" holds a non-ASCII character at byte ${at} (near ${JSON.stringify(bytes.subarray(Math.max(0, at - 40), at + 10).toString())}): write it as an escape in the source`);
}

async function bundleOne(entry: string, outfile: string, plugins: Plugin[]): Promise<number> {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node26',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins,
  });
  chmodSync(outfile, 0o600);
  assertAscii(outfile);
  return Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
}

export interface BundleReport {
  mainBytes: number;
  daemonsBytes: number;
}

export async function bundle(outputs: { main: string; daemons: string }): Promise<BundleReport> {
  const [mainBytes, daemonsBytes] = await Promise.all([
    bundleOne(resolve(ROOT, 'bin/weft.ts'), outputs.main, [seaDaemonLoader]),
    bundleOne(resolve(ROOT, 'bin/daemons.ts'), outputs.daemons, []),
  ]);
  return { mainBytes, daemonsBytes };
}
