import { join } from 'node:path';
import { cacheRoot } from './k8s-tools.ts';

// Pure knowledge about the upstream flanneld the interoperability test runs: which release, which of its
// backends cannot be built here, how its version is stamped, and where the binary is cached.

export const FLANNEL_MODULE = 'github.com/flannel-io/flannel';
export const FLANNEL_VERSION = 'v0.28.10';

/**
 * Backends flannel's main.go links in that cannot build here: the module proxy refuses the Tencent Cloud
 * SDK's vpc module (403), and the udp backend needs cgo on amd64. The test uses vxlan only.
 */
export const UNBUILDABLE_BACKENDS = ['tencentvpc', 'udp'] as const;

/** flannel's main.go without the blank imports that register the unbuildable backends. */
export function withoutUnbuildableBackends(mainGo: string): string {
  const imports = UNBUILDABLE_BACKENDS.map((b) => `_ "${FLANNEL_MODULE}/pkg/backend/${b}"`);
  const missing = imports.filter((line) => !mainGo.includes(line));
  if (missing.length > 0) throw new Error(`cannot drop backends from main.go: no ${missing.map((m) => `'${m}'`).join(', ')} import`);
  return mainGo
    .split('\n')
    .filter((line) => !imports.includes(line.trim()))
    .join('\n');
}

/** `-ldflags` as flannel's Makefile stamps a release, so `flanneld --version` prints it. */
export function flannelLdflags(version: string): string {
  return `-s -w -X ${FLANNEL_MODULE}/pkg/version.Version=${version}`;
}

export function flannelDir(version: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!/^v\d+\.\d+\.\d+$/.test(version)) throw new Error(`cannot name the cache directory: "${version}" is not vX.Y.Z`);
  return join(cacheRoot(env), 'flannel', version);
}

export function flanneldPath(version: string = FLANNEL_VERSION, env: NodeJS.ProcessEnv = process.env): string {
  return join(flannelDir(version, env), 'flanneld');
}
