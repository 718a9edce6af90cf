import { chmodSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';

// Three CommonJS bundles for the single executable (a SEA's main script cannot load files at run time):
// the main one holds the dispatcher and the CNI plugins; the daemons' one (weft-proxy, the
// troubleshooting commands, weftd's kube subnet manager, with the Kubernetes client) and weftd's own
// (without that client) are embedded as assets and evaluated only when their commands start. Within a
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

/** Packages a bundle must not hold (what makes it worth having), by the path esbuild reports their inputs under. */
export function assertExcludes(outfile: string, inputs: Iterable<string>, excluded: readonly string[]): void {
  for (const input of inputs) {
    const package_ = excluded.find((name) => input.startsWith(`node_modules/${name}/`));
    if (package_ !== undefined) throw new Error(`cannot bundle: "${outfile}" must not hold ${package_}, but "${input}" is in it: import it through the daemons' bundle`);
  }
}

async function bundleOne(entry: string, outfile: string, plugins: Plugin[], excluded: readonly string[] = []): Promise<number> {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node26',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    // Only sources run outside the executable read it (lib/netlink/socket.ts finds the addon by it).
    define: { 'import.meta.dirname': 'undefined' },
    metafile: true,
    logLevel: 'warning',
    plugins,
  });
  chmodSync(outfile, 0o600);
  assertAscii(outfile);
  assertExcludes(outfile, Object.values(result.metafile.outputs).flatMap((output) => Object.keys(output.inputs)), excluded);
  return Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
}

export interface BundleReport {
  mainBytes: number;
  daemonsBytes: number;
  overlayBytes: number;
}

const KUBERNETES_CLIENT = ['@kubernetes/client-node'];

export async function bundle(outputs: { entry: string; main: string; daemons: string; overlay: string }): Promise<BundleReport> {
  const [, mainBytes, daemonsBytes, overlayBytes] = await Promise.all([
    bundleOne(resolve(ROOT, 'build/sea-main.ts'), outputs.entry, [], KUBERNETES_CLIENT),
    bundleOne(resolve(ROOT, 'bin/weft.ts'), outputs.main, [seaDaemonLoader], KUBERNETES_CLIENT),
    bundleOne(resolve(ROOT, 'bin/daemons.ts'), outputs.daemons, []),
    bundleOne(resolve(ROOT, 'bin/overlay-daemon.ts'), outputs.overlay, [], KUBERNETES_CLIENT),
  ]);
  return { mainBytes, daemonsBytes, overlayBytes };
}
