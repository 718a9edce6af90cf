import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { remainingMs } from '../../lib/deadline.ts';
import { run } from '../../lib/exec.ts';
import { isPlainName } from '../../lib/names.ts';
import { CniError, ErrorCode, invalidConfig } from './errors.ts';
import { MAX_DELEGATION_DEPTH, type Request } from './request.ts';
import { parseResult } from './result.ts';
import type { Result, Verb } from './types.ts';

// Delegation as the spec describes it: find the plugin named by "type" in CNI_PATH, run it with the
// same environment but our verb, hand it the whole config on stdin, and read its result or error.
// Two bounds keep a config from looping: a plugin never delegates to its own type, and every
// delegation raises WEFT_CNI_DEPTH, which the request parser refuses past MAX_DELEGATION_DEPTH.
// The delegate's WEFT_CNI_TIMEOUT is what is left of ours, so it ends before we must.

interface PluginOutput {
  code: number;
  stdout: string;
}

/** Runs a plugin executable. The default spawns it; the single executable may run itself in-process. */
export type PluginInvoker = (file: string, env: NodeJS.ProcessEnv, stdin: string) => Promise<PluginOutput>;

export const spawnPlugin: PluginInvoker = async (file, env, stdin) => {
  const result = await run(file, [], { env, input: stdin });
  return { code: result.code, stdout: result.stdout };
};

/** What a "type" field takes: a file name in CNI_PATH, never a path. */
export const PLUGIN_NAME = { expectation: 'a plugin name (letters, digits, "_", "." and "-")', check: (text: string) => (isPlainName(text) ? text : undefined) };

/** Finds an executable plugin in CNI_PATH; the name must not be a path. */
export function findPlugin(type: string, path: readonly string[]): string {
  if (!isPlainName(type)) throw new CniError(ErrorCode.InvalidConfig, `invalid config: plugin type ${JSON.stringify(type)} is not a plain name`);
  for (const dir of path) {
    const file = join(dir, type);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  throw new CniError(ErrorCode.InvalidConfig, `cannot find plugin "${type}" in CNI_PATH`, { details: `searched: ${path.join(':')}` });
}

function delegateEnv(request: Request, command: Verb, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    CNI_COMMAND: command,
    CNI_CONTAINERID: request.containerId,
    CNI_IFNAME: request.ifname,
    CNI_PATH: request.path.join(':'),
    WEFT_CNI_DEPTH: String(request.depth + 1),
  };
  const left = remainingMs();
  if (left !== undefined) env.WEFT_CNI_TIMEOUT = `${Math.max(1, Math.floor(left))}ms`;
  if (request.netns) env.CNI_NETNS = request.netns;
  else delete env.CNI_NETNS;
  env.CNI_ARGS = [...request.args].map(([k, v]) => `${k}=${v}`).join(';');
  return env;
}

interface DelegateOptions {
  /** The delegating plugin's own type, which the delegate must not be. */
  caller: string;
  /** The config field naming the delegate, for errors ("ipam.type"). */
  field: string;
  invoke?: PluginInvoker;
  env?: NodeJS.ProcessEnv;
}

/** Runs a delegate plugin for one verb; returns its parsed result for ADD, nothing otherwise. */
export async function delegate(type: string, command: Verb, request: Request, stdin: string, options: DelegateOptions): Promise<Result | undefined> {
  if (type === options.caller) throw invalidConfig(options.field, `must name another plugin than the one it configures, got "${type}"`);
  if (request.depth >= MAX_DELEGATION_DEPTH) {
    throw new CniError(ErrorCode.InvalidConfig, `cannot delegate to "${type}" (${options.field}): ${MAX_DELEGATION_DEPTH} plugins already delegate in this call`);
  }
  const file = findPlugin(type, request.path);
  const output = await (options.invoke ?? spawnPlugin)(file, delegateEnv(request, command, options.env), stdin);
  let parsed: unknown;
  try {
    parsed = output.stdout.trim() === '' ? undefined : JSON.parse(output.stdout);
  } catch {
    parsed = undefined;
  }
  if (output.code !== 0) {
    const error = parsed as { code?: unknown; msg?: unknown; details?: unknown } | undefined;
    if (error && typeof error.code === 'number' && typeof error.msg === 'string') {
      throw new CniError(error.code, error.msg, { details: typeof error.details === 'string' ? error.details : '' });
    }
    throw new CniError(ErrorCode.DelegateFailure, `cannot run ${command} of plugin "${type}": exit ${output.code}`, { details: output.stdout.slice(0, 500) });
  }
  if (command !== 'ADD') return undefined;
  if (parsed === undefined) throw new CniError(ErrorCode.DecodeFailure, `cannot decode result of plugin "${type}": empty or not JSON`);
  return parseResult(parsed);
}
