import { renameSync } from 'node:fs';
import { runChecked } from '../lib/exec.ts';

// What the installers of upstream Go binaries (install-k8s, install-flanneld) share: progress lines
// timed from start, the build environment, and a build that never leaves a partial binary in the cache.

export interface Progress {
  (msg: string): void;
  /** Seconds since `since` (default: the installer's start), formatted "12.3 s". */
  elapsed(since?: number): string;
}

export function createProgress(name: string): Progress {
  const started = Date.now();
  const elapsed = (since = started) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
  return Object.assign((msg: string) => console.log(`[${name} ${elapsed()}] ${msg}`), { elapsed });
}

export function goEnv(): NodeJS.ProcessEnv {
  // Static binaries with no libc dependency; go.mod and go.sum are inputs, never rewritten by a build.
  return { ...process.env, CGO_ENABLED: '0', GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=readonly`.trim() };
}

/** `go -C moduleDir build <flags> -o file pkg`, niced; the file appears only once the build succeeded. */
export async function goBuildInto(file: string, pkg: string, options: { moduleDir: string; flags: readonly string[] }): Promise<void> {
  const partial = `${file}.partial`;
  // nice: the machine has two cores and other test runs share them.
  await runChecked('nice', ['-n', '10', 'go', '-C', options.moduleDir, 'build', ...options.flags, '-o', partial, pkg], { env: goEnv() });
  // Renamed only when complete, so an interrupted build never passes for a cached binary.
  renameSync(partial, file);
}
