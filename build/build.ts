import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { buildNetlinkAddon } from './addon.ts';
import { bundle } from './bundle.ts';
import { CLIENT_COMMAND_NAMES, CNI_COMMAND_NAMES, CNI_EXECUTABLE, DAEMON_COMMAND_NAMES, EXECUTABLE, linkCommands } from './links.ts';
import { buildSea, CNI_EXEC_ARGV, SEA_EXEC_ARGV } from './sea.ts';
import { writeCodeCache } from './code-cache.ts';
import type { Daemons } from '../bin/load-daemons.ts';
import { NETLINK_ADDON } from '../lib/netlink/socket.ts';
import { DAEMONS_ASSET, DAEMONS_CODE_CACHE, MAIN_ASSET, MAIN_CODE_CACHE, OVERLAY_ASSET, OVERLAY_CODE_CACHE, PROXY_CODE_CACHE } from './sea-load-daemons.ts';

// npm run build: bin/weft.ts -> dist/weft.cjs, embedded with the daemons' bundles and their code caches
// in dist/bin/weft (single executable, entered through build/sea-main.ts), and with its own code cache
// alone in dist/bin/weft-cni (the CNI plugins, started with other V8 flags: sea.ts), + one hard link
// per command, and the CNI plugins' netlink addon beside them. Copying weft-cni, its links and the
// addon into /opt/cni/bin installs the plugins; kubectl-weft goes on the operator's PATH.

const ROOT = resolve(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist');
const BIN = join(DIST, 'bin');

function progress(step: string, started: number, detail: string): void {
  process.stdout.write(`${step.padEnd(7)} ${String(Math.round(performance.now() - started)).padStart(6)} ms  ${detail}\n`);
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

async function main(): Promise<void> {
  rmSync(BIN, { recursive: true, force: true });
  mkdirSync(BIN, { recursive: true, mode: 0o700 });

  let started = performance.now();
  const entry = join(DIST, 'sea-main.cjs');
  const bundled = join(DIST, MAIN_ASSET);
  const daemons = join(DIST, DAEMONS_ASSET);
  const overlay = join(DIST, OVERLAY_ASSET);
  const report = await bundle({ entry, main: bundled, daemons, overlay });
  const kb = (bytes: number): string => `${(bytes / 1e3).toFixed(0)} kB`;
  progress('bundle', started, `${relative(ROOT, bundled)} ${kb(report.mainBytes)}, ${relative(ROOT, daemons)} ${kb(report.daemonsBytes)}, ${relative(ROOT, overlay)} ${kb(report.overlayBytes)}`);

  started = performance.now();
  const caches = { [MAIN_CODE_CACHE]: join(DIST, MAIN_CODE_CACHE), [DAEMONS_CODE_CACHE]: join(DIST, DAEMONS_CODE_CACHE), [PROXY_CODE_CACHE]: join(DIST, PROXY_CODE_CACHE), [OVERLAY_CODE_CACHE]: join(DIST, OVERLAY_CODE_CACHE) };
  // V8 accepts a cache only under the flags it was made with: weft-cni's commands get their own.
  const cniCache = join(DIST, `${CNI_EXECUTABLE}.cache`);
  const cacheBytes = await Promise.all([
    writeCodeCache(bundled, cniCache, { node: process.execPath, execArgv: CNI_EXEC_ARGV, asset: MAIN_ASSET, eager: true }),
    writeCodeCache(bundled, caches[MAIN_CODE_CACHE], { node: process.execPath, execArgv: SEA_EXEC_ARGV, asset: MAIN_ASSET, eager: true }),
    writeCodeCache(daemons, caches[DAEMONS_CODE_CACHE], { node: process.execPath, execArgv: SEA_EXEC_ARGV, asset: DAEMONS_ASSET }),
    writeCodeCache(daemons, caches[PROXY_CODE_CACHE], { node: process.execPath, execArgv: SEA_EXEC_ARGV, asset: DAEMONS_ASSET, initialize: 'initializeProxyModules' satisfies keyof Daemons }),
    writeCodeCache(overlay, caches[OVERLAY_CODE_CACHE], { node: process.execPath, execArgv: SEA_EXEC_ARGV, asset: OVERLAY_ASSET }),
  ]);
  progress('cache', started, [cniCache, ...Object.values(caches)].map((file, i) => `${relative(ROOT, file)} ${kb(cacheBytes[i]!)}`).join(', '));

  started = performance.now();
  const binary = join(BIN, EXECUTABLE);
  const cniBinary = join(BIN, CNI_EXECUTABLE);
  const sea = { node: process.execPath, cacheDir: join(ROOT, '.cache'), workDir: DIST };
  await buildSea(entry, binary, { ...sea, execArgv: SEA_EXEC_ARGV, assets: { [MAIN_ASSET]: bundled, [DAEMONS_ASSET]: daemons, [OVERLAY_ASSET]: overlay, ...caches } });
  await buildSea(entry, cniBinary, { ...sea, execArgv: CNI_EXEC_ARGV, assets: { [MAIN_ASSET]: bundled, [MAIN_CODE_CACHE]: cniCache } });
  progress('sea', started, `${relative(ROOT, binary)} ${mb(statSync(binary).size)}, ${relative(ROOT, cniBinary)} ${mb(statSync(cniBinary).size)}`);

  started = performance.now();
  const addon = join(BIN, NETLINK_ADDON);
  await buildNetlinkAddon(addon, { node: process.execPath });
  progress('addon', started, `${relative(ROOT, addon)} ${kb(statSync(addon).size)}`);

  started = performance.now();
  const links = [...linkCommands(cniBinary, CNI_COMMAND_NAMES), ...linkCommands(binary, [...DAEMON_COMMAND_NAMES, ...CLIENT_COMMAND_NAMES])];
  progress('links', started, links.map((link) => relative(BIN, link)).join(' '));
}

main().catch((error: unknown) => {
  process.stderr.write(`build: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
