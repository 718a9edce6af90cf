import { chmodSync, existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';

// One CommonJS file for the single executable: a SEA's main script cannot load files at run time, so
// every command is inlined. esbuild keeps each dynamically imported command behind a lazy initialiser,
// so a start evaluates only the command it runs.

/** A command whose sources are not written yet still builds; calling it reports that it is missing. */
function missingCommandStub(missing: string[]): Plugin {
  return {
    name: 'missing-command-stub',
    setup(b) {
      b.onResolve({ filter: /\/main\.ts$/ }, (args) => {
        const path = resolve(args.resolveDir, args.path);
        if (existsSync(path)) return undefined;
        missing.push(path);
        return { path, namespace: 'missing-command' };
      });
      b.onLoad({ filter: /.*/, namespace: 'missing-command' }, (args) => ({
        loader: 'js',
        contents: `export async function main() { process.stderr.write(${JSON.stringify(`weft: cannot run command: "${relative(process.cwd(), args.path)}" was not built\n`)}); return 1; }`,
      }));
    },
  };
}

export interface BundleReport {
  bytes: number;
  /** Command sources that did not exist at build time and were replaced by a stub. */
  missing: string[];
}

export async function bundle(entry: string, outfile: string): Promise<BundleReport> {
  const missing: string[] = [];
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
    plugins: [missingCommandStub(missing)],
  });
  chmodSync(outfile, 0o600);
  const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  return { bytes, missing };
}
