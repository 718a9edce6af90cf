import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runChecked } from '../lib/exec.ts';
import { createProgress, goBuildInto } from './go-build.ts';
import { FLANNEL_MODULE, FLANNEL_VERSION, flannelDir, flannelLdflags, flanneldPath, withoutUnbuildableBackends } from './flannel-tools.ts';

// Builds upstream flanneld (FLANNEL_VERSION) from the Go module proxy into
// ~/.cache/weft/flannel/<version>/flanneld (WEFT_CACHE_DIR overrides ~/.cache/weft), with flannel's own
// go.mod and go.sum. A second run reuses a binary that reports the pinned version.
//
//   npx node scripts/install-flanneld.ts

const progress = createProgress('install-flanneld');

async function installedVersion(file: string): Promise<string | undefined> {
  if (!existsSync(file)) return undefined;
  // flanneld prints its version on stderr.
  const result = await run(file, ['--version']);
  return `${result.stdout}${result.stderr}`.trim();
}

async function main(): Promise<void> {
  const dir = flannelDir(FLANNEL_VERSION);
  const file = flanneldPath(FLANNEL_VERSION);
  const found = await installedVersion(file);
  if (found === FLANNEL_VERSION) {
    progress(`flanneld ${found} already in ${dir}`);
    return;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  progress(`downloading ${FLANNEL_MODULE}@${FLANNEL_VERSION} ...`);
  const download = JSON.parse((await runChecked('go', ['mod', 'download', '-json', `${FLANNEL_MODULE}@${FLANNEL_VERSION}`])).stdout);
  // The module cache is read-only and go refuses overlays inside it: build from a private copy whose
  // main.go leaves out the backends that cannot build here.
  const src = join(dir, 'src');
  rmSync(src, { recursive: true, force: true });
  cpSync(download.Dir, src, { recursive: true });
  await runChecked('chmod', ['-R', 'u+w', src]);
  writeFileSync(join(src, 'main.go'), withoutUnbuildableBackends(readFileSync(join(src, 'main.go'), 'utf8')), { mode: 0o600 });
  const since = Date.now();
  progress('building flanneld ...');
  // With flannel's own go.mod and go.sum (read-only).
  await goBuildInto(file, '.', { moduleDir: src, flags: ['-trimpath', '-ldflags', flannelLdflags(FLANNEL_VERSION)] });
  rmSync(src, { recursive: true, force: true });
  const version = await installedVersion(file);
  if (version !== FLANNEL_VERSION) throw new Error(`cannot install flanneld: it reports "${version}", expected "${FLANNEL_VERSION}"`);
  progress(`built flanneld ${version} in ${progress.elapsed(since)}: ${file}`);
}

main().catch((error: unknown) => {
  console.error(`install-flanneld: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
