import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lib/exec.ts';
import { buildModuleRelease, createProgress } from './go-build.ts';
import { FLANNEL_MODULE, FLANNEL_VERSION, flannelDir, flannelLdflags, flanneldPath, withoutUnbuildableBackends } from './flannel-tools.ts';

// Builds upstream flanneld (FLANNEL_VERSION) from the Go module proxy into
// ~/.cache/weft/flannel/<version>/flanneld (WEFT_CACHE_DIR overrides ~/.cache/weft), with flannel's own
// go.mod and go.sum. A second run reuses a binary that reports the pinned version.
//
//   node scripts/install-flanneld.ts

const progress = createProgress('install-flanneld');

async function installedVersion(file: string): Promise<string | undefined> {
  if (!existsSync(file)) return undefined;
  // flanneld prints its version on stderr.
  const result = await run(file, ['--version']);
  return `${result.stdout}${result.stderr}`.trim();
}

async function main(): Promise<void> {
  const file = flanneldPath(FLANNEL_VERSION);
  const found = await installedVersion(file);
  if (found === FLANNEL_VERSION) {
    progress(`flanneld ${found} already in ${flannelDir(FLANNEL_VERSION)}`);
    return;
  }
  mkdirSync(flannelDir(FLANNEL_VERSION), { recursive: true, mode: 0o700 });
  const since = Date.now();
  progress(`building flanneld ${FLANNEL_VERSION} (the overlay interop test and benchmark; about 2 min cold) ...`);
  await buildModuleRelease({
    module: FLANNEL_MODULE,
    version: FLANNEL_VERSION,
    file,
    ldflags: flannelLdflags(FLANNEL_VERSION),
    patch: (src) => writeFileSync(join(src, 'main.go'), withoutUnbuildableBackends(readFileSync(join(src, 'main.go'), 'utf8')), { mode: 0o600 }),
  });
  const version = await installedVersion(file);
  if (version !== FLANNEL_VERSION) throw new Error(`cannot install flanneld: it reports "${version}", expected "${FLANNEL_VERSION}"`);
  progress(`built flanneld ${version} in ${progress.elapsed(since)}: ${file}`);
}

main().catch((error: unknown) => {
  console.error(`install-flanneld: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
