import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { run } from '../lib/exec.ts';
import { COREDNS_MODULE, COREDNS_VERSION, corednsPath, parseCorednsVersion } from './coredns-tools.ts';
import { buildModuleRelease, createProgress } from './go-build.ts';

// Builds upstream CoreDNS (COREDNS_VERSION, the release kubeadm pins for the pinned Kubernetes) from the Go
// module proxy with its own go.mod into ~/.cache/weft/coredns/<version>/coredns, for the lab cluster's DNS
// and the e2e images. A second run reuses a binary that reports the pinned version.
//
//   node scripts/install-coredns.ts

const progress = createProgress('install-coredns');

async function installedVersion(file: string): Promise<string | undefined> {
  if (!existsSync(file)) return undefined;
  return parseCorednsVersion((await run(file, ['-version'])).stdout);
}

async function main(): Promise<void> {
  const file = corednsPath();
  if ((await installedVersion(file)) === COREDNS_VERSION) {
    progress(`coredns ${COREDNS_VERSION} already in ${dirname(file)}`);
    return;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const since = Date.now();
  progress(`building coredns ${COREDNS_VERSION} (the lab cluster's DNS; about 4 min cold on 2 cores) ...`);
  await buildModuleRelease({ module: COREDNS_MODULE, version: COREDNS_VERSION, file, ldflags: `-s -w -X ${COREDNS_MODULE}/coremain.GitCommit=${COREDNS_VERSION}` });
  const version = await installedVersion(file);
  if (version !== COREDNS_VERSION) throw new Error(`cannot install coredns: it reports "${version}", expected "${COREDNS_VERSION}"`);
  progress(`built coredns ${version} in ${progress.elapsed(since)}: ${file}`);
}

main().catch((error: unknown) => {
  console.error(`install-coredns: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
