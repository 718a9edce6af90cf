import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

// Pure knowledge about the upstream Kubernetes binaries our cluster tests run: which version is pinned,
// how the tools go.mod is written, how versions are stamped, and where the built binaries are cached.

export const TOOLS_DIR = resolve(import.meta.dirname, '../test/cluster/tools');
export const KUBERNETES_MODULE = 'k8s.io/kubernetes';

/** One upstream build from the tools go.mod: a command (`go build`) or a test binary (`go test -c`). */
export interface UpstreamBuild {
  /** File name in the cache's bin directory. */
  name: string;
  package: string;
  kind: 'command' | 'test';
  /** Whether `--version` (kubectl: `version --client`) prints the stamped release; others get a stamp file. */
  reportsVersion: boolean;
  /** Why the project needs it, for progress lines. */
  purpose: string;
  /** A cold build on 2 cores with the module cache filled, for progress lines (measured here). */
  coldMinutes: number;
}

const command = (name: string, purpose: string, coldMinutes: number, pkg = `k8s.io/kubernetes/cmd/${name}`): UpstreamBuild => ({
  name, package: pkg, kind: 'command', reportsVersion: pkg.startsWith('k8s.io/kubernetes/cmd/'), purpose, coldMinutes,
});

/** Everything install-k8s builds, in build order (the first pays for the shared packages). */
export const K8S_BUILDS: readonly UpstreamBuild[] = [
  command('kube-apiserver', 'the control plane', 6),
  command('kube-controller-manager', 'the control plane', 2),
  command('kube-scheduler', 'the control plane', 1),
  command('kubelet', 'every node of the lab cluster', 1.5),
  command('kube-proxy', 'the proxy benchmark and tests beside weft-proxy', 0.5),
  command('kubectl', 'installs and tests', 1),
  command('agnhost', 'the e2e test image', 2, 'k8s.io/kubernetes/test/images/agnhost'),
  command('ginkgo', 'parallel conformance runs', 0.5, 'github.com/onsi/ginkgo/v2/ginkgo'),
  { name: 'e2e.test', package: 'k8s.io/kubernetes/test/e2e', kind: 'test', reportsVersion: false, purpose: 'the upstream conformance suite', coldMinutes: 11 },
];

/** The binaries the control plane and the nodes run (the first five of K8S_BUILDS plus kubectl). */
export const K8S_BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl'] as const;
export type K8sBinary = (typeof K8S_BINARIES)[number];

/** Build tags upstream's hack/lib/golang.sh passes to every binary. */
export const BUILD_TAGS = 'selinux,notest,grpcnotrace';

const SEMVER = /^v(\d+)\.(\d+)\.(\d+)$/;

/** The k8s.io/kubernetes version a tools go.mod requires. */
export function pinnedVersion(goMod: string): string {
  const match = /^\s*(?:require\s+)?k8s\.io\/kubernetes\s+(v\S+)/m.exec(goMod);
  if (!match?.[1]) throw new Error(`cannot read the pinned version: no "${KUBERNETES_MODULE}" requirement in go.mod`);
  return match[1];
}

/** The newest release (no pre-releases) of one minor line, from `go list -m -versions` output. */
export function latestPatch(versions: readonly string[], minor: string): string {
  const [major, min] = minor.split('.').map(Number);
  const patches = versions
    .map((v) => SEMVER.exec(v))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) === major && Number(m[2]) === min)
    .map((m) => Number(m[3]));
  if (patches.length === 0) throw new Error(`cannot pick a patch release: no "v${minor}.x" among ${versions.length} versions`);
  return `v${minor}.${Math.max(...patches)}`;
}

/** Staging modules are published as v0.MINOR.PATCH alongside k8s.io/kubernetes v1.MINOR.PATCH. */
export function stagingVersion(version: string): string {
  const match = SEMVER.exec(version);
  if (!match || match[1] !== '1') throw new Error(`cannot derive the staging version: "${version}" is not a v1.x.y release`);
  return `v0.${match[2]}.${match[3]}`;
}

/** The modules k8s.io/kubernetes' own go.mod replaces with its ./staging directories. */
export function stagingModules(upstreamGoMod: string): string[] {
  const modules = [...upstreamGoMod.matchAll(/^\s*(k8s\.io\/\S+)\s+=>\s+\.\/staging\//gm)].map((m) => m[1] as string);
  if (modules.length === 0) throw new Error('cannot read the staging modules: no "=> ./staging/" replace lines in the upstream go.mod');
  return modules;
}

/**
 * The tools go.mod before `go mod tidy`: dependents ignore k8s.io/kubernetes' directory replaces, so
 * every staging module is replaced by its published version. `tool` lines keep the commands' packages
 * in the module graph (a main package cannot be imported from a tools.go).
 */
export function renderToolsGoMod(version: string, staging: readonly string[]): string {
  const stagingV = stagingVersion(version);
  return [
    'module weft.local/cluster-tools',
    '',
    // Upstream builds with the language version and GODEBUG defaults of its own go.mod.
    'go 1.24.0',
    '',
    'godebug default=go1.24',
    '',
    `require ${KUBERNETES_MODULE} ${version}`,
    '',
    'tool (',
    ...K8S_BUILDS.filter((b) => b.kind === 'command').map((b) => `\t${b.package}`),
    ')',
    '',
    'replace (',
    ...staging.map((m) => `\t${m} => ${m} ${stagingV}`),
    ')',
    '',
  ].join('\n');
}

/**
 * tools.go for the tools module: `go test -c` of a dependency's package needs its test imports in the
 * module graph, and `go mod tidy` keeps only what the main module imports. This file imports what the
 * suite's e2e_test.go imports (read from the pinned release), behind a build tag nothing sets.
 */
export function renderE2eToolsGo(e2eTestGo: string): string {
  const block = /^import \(\n([\s\S]*?)^\)/m.exec(e2eTestGo)?.[1];
  if (!block) throw new Error('cannot read the e2e suite imports: no import block in e2e_test.go');
  const imports = [...new Set([...block.matchAll(/^\s*(?:[\w.]+\s+)?"([^"]+)"/gm)].map((m) => m[1] as string))]
    .filter((path) => path.includes('.') && path.includes('/'));
  return [
    '//go:build tools',
    '',
    '// Generated by scripts/install-k8s.ts --pin from test/e2e/e2e_test.go of the pinned release.',
    'package tools',
    '',
    'import (',
    ...imports.map((path) => `\t_ "${path}"`),
    ')',
    '',
  ].join('\n');
}

/** `-ldflags` value stamping the version as hack/lib/version.sh does, so `--version` is not v0.0.0. */
export function versionLdflags(version: string, buildDate: string): string {
  const match = SEMVER.exec(version);
  if (!match) throw new Error(`cannot stamp the version: "${version}" is not vX.Y.Z`);
  const values: Record<string, string> = {
    gitVersion: version,
    gitMajor: match[1] as string,
    gitMinor: match[2] as string,
    gitTreeState: 'clean',
    buildDate,
  };
  const stamps = ['k8s.io/client-go/pkg/version', 'k8s.io/component-base/version'].flatMap((pkg) =>
    Object.entries(values).map(([key, value]) => `-X ${pkg}.${key}=${value}`),
  );
  return ['-s', '-w', ...stamps].join(' ');
}

/** The root of weft's cache: WEFT_CACHE_DIR, else ~/.cache/weft. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.WEFT_CACHE_DIR ? resolve(env.WEFT_CACHE_DIR) : join(homedir(), '.cache', 'weft');
}

export function k8sBinDir(version: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!SEMVER.test(version)) throw new Error(`cannot name the cache directory: "${version}" is not vX.Y.Z`);
  return join(cacheRoot(env), 'k8s', version, 'bin');
}

/** The arguments that make a binary print its version. */
export function versionArgs(name: string): string[] {
  return name === 'kubectl' ? ['version', '--client'] : ['--version'];
}

/** The version a binary printed ("Kubernetes v1.34.4" or "Client Version: v1.34.4"), or undefined. */
export function parseVersionOutput(output: string): string | undefined {
  return /(?:^Kubernetes|Client Version:)\s+(v\d+\.\d+\.\d+\S*)/m.exec(output)?.[1];
}
