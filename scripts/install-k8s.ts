import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { run, runChecked } from '../lib/exec.ts';
import { createProgress, goBuildInto, goEnv } from './go-build.ts';
import {
  BUILD_TAGS,
  K8S_BUILDS,
  KUBERNETES_MODULE,
  TOOLS_DIR,
  k8sBinDir,
  latestPatch,
  parseVersionOutput,
  pinnedVersion,
  renderE2eToolsGo,
  renderToolsGoMod,
  stagingModules,
  versionArgs,
  versionLdflags,
  type UpstreamBuild,
} from './k8s-tools.ts';

// Builds the upstream Kubernetes binaries weft's lab cluster, tests and benchmarks run (control plane,
// kubelet, kube-proxy, kubectl, and the conformance suite e2e.test with ginkgo and agnhost) from the pinned
// test/cluster/tools/go.mod into ~/.cache/weft/k8s/<version>/bin (WEFT_CACHE_DIR overrides ~/.cache/weft).
// A second run reuses what is there.
//
//   node scripts/install-k8s.ts              build what is missing
//   node scripts/install-k8s.ts --pin 1.34   rewrite go.mod/go.sum/tools.go for the newest v1.34.x, then build

const progress = createProgress('install-k8s');

const GO_MOD = join(TOOLS_DIR, 'go.mod');

function go(args: readonly string[]) {
  return runChecked('go', ['-C', TOOLS_DIR, ...args], { env: goEnv() });
}

/** Rewrites go.mod and tools.go for the newest patch of `minor` the module proxy serves, then lets go fill go.sum. */
async function pin(minor: string): Promise<void> {
  const list = await runChecked('go', ['list', '-m', '-versions', KUBERNETES_MODULE]);
  const version = latestPatch(list.stdout.trim().split(/\s+/).slice(1), minor);
  progress(`pinning ${KUBERNETES_MODULE} ${version}`);
  const download = JSON.parse((await runChecked('go', ['mod', 'download', '-json', `${KUBERNETES_MODULE}@${version}`])).stdout);
  const staging = stagingModules(readFileSync(download.GoMod, 'utf8'));
  writeFileSync(GO_MOD, renderToolsGoMod(version, staging));
  writeFileSync(join(TOOLS_DIR, 'tools.go'), renderE2eToolsGo(readFileSync(join(download.Dir, 'test/e2e/e2e_test.go'), 'utf8')));
  rmSync(join(TOOLS_DIR, 'go.sum'), { force: true });
  await runChecked('go', ['-C', TOOLS_DIR, 'mod', 'tidy']);
  progress(`go.mod, go.sum and tools.go now pin ${version} (${staging.length} staging modules)`);
}

const stampFile = (binDir: string, build: UpstreamBuild) => join(binDir, `.${build.name}.version`);

/** The release a cached binary was built from: what it prints, or its stamp file; undefined when absent. */
async function installedVersion(binDir: string, build: UpstreamBuild): Promise<string | undefined> {
  const file = join(binDir, build.name);
  if (!existsSync(file)) return undefined;
  if (!build.reportsVersion) return existsSync(stampFile(binDir, build)) ? readFileSync(stampFile(binDir, build), 'utf8').trim() : undefined;
  return parseVersionOutput((await run(file, versionArgs(build.name))).stdout);
}

async function buildOne(build: UpstreamBuild, binDir: string, version: string, ldflags: string): Promise<void> {
  const since = Date.now();
  progress(`building ${build.name} (${build.purpose}; about ${build.coldMinutes} min cold on 2 cores) ...`);
  const flags = ['-trimpath', '-tags', BUILD_TAGS, '-ldflags', ldflags];
  await goBuildInto(join(binDir, build.name), build.package, { moduleDir: TOOLS_DIR, flags, test: build.kind === 'test' });
  if (!build.reportsVersion) writeFileSync(stampFile(binDir, build), `${version}\n`, { mode: 0o600 });
  progress(`built ${build.name} in ${progress.elapsed(since)}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { pin: { type: 'string' } } });
  if (values.pin) await pin(values.pin);

  const version = pinnedVersion(readFileSync(GO_MOD, 'utf8'));
  const binDir = k8sBinDir(version);
  mkdirSync(binDir, { recursive: true, mode: 0o700 });

  const missing: UpstreamBuild[] = [];
  for (const build of K8S_BUILDS) {
    if ((await installedVersion(binDir, build)) === version) continue;
    missing.push(build);
  }
  if (missing.length === 0) {
    progress(`all ${K8S_BUILDS.length} Kubernetes ${version} builds already in ${binDir}`);
    return;
  }
  const minutes = missing.reduce((sum, b) => sum + b.coldMinutes, 0);
  progress(`to build: ${missing.map((b) => b.name).join(', ')} (about ${Math.ceil(minutes)} min cold on 2 cores; cached for later runs)`);
  progress(`downloading modules for ${KUBERNETES_MODULE} ${version} ...`);
  const since = Date.now();
  await go(['mod', 'download']);
  progress(`modules ready in ${progress.elapsed(since)}`);
  // The release's commit time, so rebuilding the same version stamps the same buildDate.
  const info = JSON.parse((await go(['list', '-m', '-json', KUBERNETES_MODULE])).stdout);
  const ldflags = versionLdflags(version, new Date(info.Time).toISOString().replace(/\.\d+Z$/, 'Z'));
  for (const build of missing) {
    await buildOne(build, binDir, version, ldflags);
    const found = await installedVersion(binDir, build);
    if (found !== version) throw new Error(`cannot install ${build.name}: it reports "${found}", expected "${version}"`);
  }
  const size = (await runChecked('du', ['-sh', binDir])).stdout.split('\t')[0];
  progress(`Kubernetes ${version} builds in ${binDir} (${size})`);
}

main().catch((error: unknown) => {
  console.error(`install-k8s: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
