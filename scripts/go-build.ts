import { cpSync, renameSync, rmSync } from 'node:fs';
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

/**
 * `go -C moduleDir build <flags> -o file pkg` (with `test`: `go test -c`, a package's test binary), niced;
 * the file appears only once the build succeeded.
 */
export async function goBuildInto(file: string, pkg: string, options: { moduleDir: string; flags: readonly string[]; test?: boolean }): Promise<void> {
  const partial = `${file}.partial`;
  const verb = options.test ? ['test', '-c'] : ['build'];
  // nice: the machine has two cores and other test runs share them.
  await runChecked('nice', ['-n', '10', 'go', '-C', options.moduleDir, ...verb, ...options.flags, '-o', partial, pkg], { env: goEnv() });
  // Renamed only when complete, so an interrupted build never passes for a cached binary.
  renameSync(partial, file);
}

export interface ModuleRelease {
  module: string;
  version: string;
  /** Where the binary goes. */
  file: string;
  ldflags: string;
  /** Rewrites the private source copy before the build (for example to drop what cannot build here). */
  patch?: (srcDir: string) => void;
}

/**
 * Builds a module's main package at a release with the module's own go.mod and go.sum (read-only), as its
 * maintainers do. The module cache is read-only and go refuses overlays inside it, so the build runs in a
 * private copy next to the binary, removed afterwards.
 */
export async function buildModuleRelease(release: ModuleRelease): Promise<void> {
  const download = JSON.parse((await runChecked('go', ['mod', 'download', '-json', `${release.module}@${release.version}`])).stdout);
  const src = `${release.file}.src`;
  rmSync(src, { recursive: true, force: true });
  cpSync(download.Dir, src, { recursive: true });
  await runChecked('chmod', ['-R', 'u+w', src]);
  try {
    release.patch?.(src);
    await goBuildInto(release.file, '.', { moduleDir: src, flags: ['-trimpath', '-ldflags', release.ldflags] });
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
}
