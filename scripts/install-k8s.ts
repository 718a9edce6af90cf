import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { run, runChecked } from '../lib/exec.ts';
import { createProgress, goBuildInto, goEnv } from './go-build.ts';
import {
  BUILD_TAGS,
  K8S_BINARIES,
  KUBERNETES_MODULE,
  TOOLS_DIR,
  commandPackage,
  k8sBinDir,
  latestPatch,
  parseVersionOutput,
  pinnedVersion,
  renderToolsGoMod,
  stagingModules,
  versionArgs,
  versionLdflags,
  type K8sBinary,
} from './k8s-tools.ts';

// Builds the upstream Kubernetes binaries the cluster tests run (kube-apiserver, kube-controller-manager,
// kube-proxy, kubectl) from the pinned test/cluster/tools/go.mod into ~/.cache/weft/k8s/<version>/bin
// (WEFT_CACHE_DIR overrides ~/.cache/weft). A second run reuses binaries that report the pinned version.
//
//   npx node scripts/install-k8s.ts              build what is missing
//   npx node scripts/install-k8s.ts --pin 1.34   rewrite go.mod/go.sum for the newest v1.34.x, then build

const progress = createProgress('install-k8s');

const GO_MOD = join(TOOLS_DIR, 'go.mod');

function go(args: readonly string[]) {
  return runChecked('go', ['-C', TOOLS_DIR, ...args], { env: goEnv() });
}

/** Rewrites go.mod for the newest patch of `minor` the module proxy serves, then lets go fill go.sum. */
async function pin(minor: string): Promise<void> {
  const list = await runChecked('go', ['list', '-m', '-versions', KUBERNETES_MODULE]);
  const version = latestPatch(list.stdout.trim().split(/\s+/).slice(1), minor);
  progress(`pinning ${KUBERNETES_MODULE} ${version}`);
  const download = JSON.parse((await runChecked('go', ['mod', 'download', '-json', `${KUBERNETES_MODULE}@${version}`])).stdout);
  const staging = stagingModules(readFileSync(download.GoMod, 'utf8'));
  writeFileSync(GO_MOD, renderToolsGoMod(version, staging));
  rmSync(join(TOOLS_DIR, 'go.sum'), { force: true });
  await runChecked('go', ['-C', TOOLS_DIR, 'mod', 'tidy']);
  progress(`go.mod and go.sum now pin ${version} (${staging.length} staging modules)`);
}

async function installedVersion(file: string, binary: K8sBinary): Promise<string | undefined> {
  if (!existsSync(file)) return undefined;
  const result = await run(file, versionArgs(binary));
  return parseVersionOutput(result.stdout);
}

async function build(binary: K8sBinary, binDir: string, ldflags: string): Promise<void> {
  const since = Date.now();
  progress(`building ${binary} ...`);
  await goBuildInto(join(binDir, binary), commandPackage(binary), { moduleDir: TOOLS_DIR, flags: ['-trimpath', '-tags', BUILD_TAGS, '-ldflags', ldflags] });
  progress(`built ${binary} in ${progress.elapsed(since)}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { pin: { type: 'string' } } });
  if (values.pin) await pin(values.pin);

  const version = pinnedVersion(readFileSync(GO_MOD, 'utf8'));
  const binDir = k8sBinDir(version);
  mkdirSync(binDir, { recursive: true, mode: 0o700 });

  const missing: K8sBinary[] = [];
  for (const binary of K8S_BINARIES) {
    const found = await installedVersion(join(binDir, binary), binary);
    if (found === version) progress(`${binary} ${found} already in ${binDir}`);
    else missing.push(binary);
  }
  if (missing.length > 0) {
    progress(`downloading modules for ${KUBERNETES_MODULE} ${version} ...`);
    const since = Date.now();
    await go(['mod', 'download']);
    progress(`modules ready in ${progress.elapsed(since)}`);
    // The release's commit time, so rebuilding the same version stamps the same buildDate.
    const info = JSON.parse((await go(['list', '-m', '-json', KUBERNETES_MODULE])).stdout);
    const ldflags = versionLdflags(version, new Date(info.Time).toISOString().replace(/\.\d+Z$/, 'Z'));
    for (const binary of missing) {
      await build(binary, binDir, ldflags);
      const found = await installedVersion(join(binDir, binary), binary);
      if (found !== version) throw new Error(`cannot install ${binary}: it reports "${found}", expected "${version}"`);
    }
  }
  const size = (await runChecked('du', ['-sh', binDir])).stdout.split('\t')[0];
  progress(`Kubernetes ${version} binaries in ${binDir} (${size})`);
}

main().catch((error: unknown) => {
  console.error(`install-k8s: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
