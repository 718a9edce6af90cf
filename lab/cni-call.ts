import { join } from 'node:path';
import { run, runInBackground, type BackgroundProcess } from '../lib/exec.ts';

// How a runtime calls a CNI plugin: one process per call, inside the node's namespace, with CNI_* in
// the environment and the config on stdin. Used by the demo, the namespace tests and the benchmarks.

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
