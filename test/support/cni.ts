import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NODE_26 } from '../../lab/commands.ts';

// CNI_PATH directories for tests; lab/cni-call.ts calls plugins as a runtime does.

export { callCni, startCni, type CniCall, type CniOutcome } from '../../lab/cni-call.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const REFERENCE_BIN_DIR = '/usr/lib/cni';
const WEFT_COMMANDS = ['weft-bridge', 'weft-host-local', 'weft-vxlan'];

// Directories made for this test process, removed when it exits.
const made: string[] = [];
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
let wrappers: string | undefined;

/**
 * A CNI_PATH directory holding weft's plugins. With WEFT_BIN_DIR set (npm test sets it to dist/bin after
 * the build) the real single executable is used; otherwise small wrappers run the sources with Node 26.
 */
export function weftBinDir(): string {
  if (process.env.WEFT_BIN_DIR) return resolve(process.env.WEFT_BIN_DIR);
  if (wrappers) return wrappers;
  const dir = (wrappers = makeTempDir('weft-bin-'));
  for (const command of WEFT_COMMANDS) {
    const file = join(dir, command);
    writeFileSync(file, `#!/bin/sh\nexec ${NODE_26} ${join(ROOT, 'bin/weft.ts')} ${command} "$@"\n`);
    chmodSync(file, 0o755);
  }
  return dir;
}

/**
 * A CNI_PATH directory with both weft's plugins and the reference plugins, so either can delegate to
 * either; made in `parent`, and removed by the caller (a test worker may end without its exit handlers).
 */
export function mixedBinDir(parent = tmpdir()): string {
  const dir = mkdtempSync(join(parent, 'weft-mixed-bin-'));
  const weft = weftBinDir();
  for (const command of WEFT_COMMANDS) symlinkSync(join(weft, command), join(dir, command));
  for (const plugin of ['bridge', 'host-local', 'loopback', 'portmap']) symlinkSync(join(REFERENCE_BIN_DIR, plugin), join(dir, plugin));
  return dir;
}
