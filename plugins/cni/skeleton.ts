import { startWithDeadline } from '../../lib/deadline.ts';
import { showValue } from '../../lib/fields.ts';
import { isObject } from '../../lib/json.ts';
import { isPlainName, NETWORK_NAME_MAX } from '../../lib/names.ts';
import { CniError, ErrorCode, invalidConfig, toCniError } from './errors.ts';
import { assertNetnsExists } from './netns.ts';
import { parseCallTimeout, parseCommand, parseRequest, type Request } from './request.ts';
import { renderResult } from './result.ts';
import type { Attachment, NetConf, Result } from './types.ts';
import { assertVerbSupported, compareVersions, CURRENT_VERSION, isSupportedVersion, SUPPORTED_VERSIONS } from './version.ts';

// The one CNI skeleton: reads env and stdin, validates versions, dispatches to a plugin's verbs,
// and prints the result or the spec's error JSON. Plugins only supply the verbs.

export interface Context<C> {
  request: Request;
  config: C;
  /** The network configuration as received, for delegation (the spec passes it on whole). */
  conf: NetConf;
  stdin: string;
}

export interface Plugin<C> {
  /** Works inside CNI_NETNS (not IPAM): ADD and CHECK then first check that the namespace exists. */
  readonly entersNetns?: boolean;
  /** Reads and validates the plugin's config; throws CniError code 7 naming the field. */
  parseConfig(conf: NetConf, request: Request): C;
  add(ctx: Context<C>): Promise<Result>;
  del(ctx: Context<C>): Promise<void>;
  check(ctx: Context<C>): Promise<void>;
  status(ctx: Context<C>): Promise<void>;
  gc(ctx: Context<C>, valid: readonly Attachment[]): Promise<void>;
}

export interface PluginIO {
  env: NodeJS.ProcessEnv;
  readStdin(): Promise<string>;
  writeStdout(text: string): void;
  /** Reports an error to the plugin's log; it is also printed as JSON on stdout. */
  logError(error: CniError): void;
}

/** The version this invocation speaks: cniVersion, or the newest supported entry of cniVersions. */
export function negotiateVersion(conf: Record<string, unknown>): string {
  if (typeof conf.cniVersion === 'string' && conf.cniVersion !== '') {
    if (!isSupportedVersion(conf.cniVersion)) {
      throw new CniError(ErrorCode.IncompatibleVersion, `incompatible CNI version "${conf.cniVersion}"`, {
        details: `supported: ${SUPPORTED_VERSIONS.join(', ')}`,
      });
    }
    return conf.cniVersion;
  }
  const listed = Array.isArray(conf.cniVersions) ? conf.cniVersions.filter((v): v is string => typeof v === 'string') : [];
  const usable = listed.filter(isSupportedVersion).sort(compareVersions);
  if (usable.length === 0) {
    throw new CniError(ErrorCode.IncompatibleVersion, listed.length ? `incompatible CNI versions ${JSON.stringify(listed)}` : 'missing "cniVersion"');
  }
  return usable[usable.length - 1]!;
}

/** GC's list of attachments still in use: cni.dev/valid-attachments, or the older cni.dev/attachments. */
export function parseValidAttachments(conf: NetConf): Attachment[] {
  const raw = conf['cni.dev/valid-attachments'] ?? conf['cni.dev/attachments'];
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new CniError(ErrorCode.InvalidConfig, 'invalid config: "cni.dev/valid-attachments" must be a list');
  return raw.map((entry, i) => {
    if (!isObject(entry) || typeof entry.containerID !== 'string' || typeof entry.ifname !== 'string') {
      throw new CniError(ErrorCode.InvalidConfig, `invalid config: "cni.dev/valid-attachments[${i}]" needs "containerID" and "ifname"`);
    }
    return { containerId: entry.containerID, ifname: entry.ifname };
  });
}

function parseStdin(stdin: string): Record<string, unknown> {
  let conf: unknown;
  try {
    conf = JSON.parse(stdin);
  } catch (error) {
    throw new CniError(ErrorCode.DecodeFailure, 'cannot decode network configuration: not valid JSON', { cause: error });
  }
  if (!isObject(conf)) throw new CniError(ErrorCode.DecodeFailure, 'cannot decode network configuration: not a JSON object');
  return conf;
}

function validateNetConf(conf: Record<string, unknown>, version: string): NetConf {
  if (typeof conf.name !== 'string' || !isPlainName(conf.name) || conf.name.length > NETWORK_NAME_MAX) {
    throw invalidConfig('name', `must be 1 to ${NETWORK_NAME_MAX} letters, digits, "_", "." and "-", starting with a letter or digit, got ${showValue(conf.name)}`);
  }
  if (typeof conf.type !== 'string' || conf.type === '') throw new CniError(ErrorCode.InvalidConfig, 'invalid config: missing "type"');
  return { ...conf, cniVersion: version } as NetConf;
}

/** Runs the verb; returns what to print on success (ADD's result), or undefined. */
async function dispatch<C>(plugin: Plugin<C>, request: Request, stdin: string, version: string): Promise<string | undefined> {
  assertVerbSupported(request.command, version);
  const conf = validateNetConf(parseStdin(stdin), version);
  const ctx: Context<C> = { request, conf, stdin, config: toConfig(plugin, conf, request) };
  if (plugin.entersNetns && (request.command === 'ADD' || request.command === 'CHECK')) assertNetnsExists(request.netns!);
  switch (request.command) {
    case 'ADD':
      return JSON.stringify(renderResult(await plugin.add(ctx), version));
    case 'DEL':
      return void (await plugin.del(ctx));
    case 'CHECK':
      return void (await plugin.check(ctx));
    case 'STATUS':
      return void (await plugin.status(ctx));
    case 'GC':
      return void (await plugin.gc(ctx, parseValidAttachments(conf)));
    case 'VERSION':
      return undefined;
  }
}

function toConfig<C>(plugin: Plugin<C>, conf: NetConf, request: Request): C {
  try {
    return plugin.parseConfig(conf, request);
  } catch (error) {
    throw toCniError(error, ErrorCode.InvalidConfig, 'read the config');
  }
}

/**
 * Runs the verb under the call's deadline, leaving time to unwind: when the deadline passes, the
 * programs the verb spawned are killed, the verb undoes what it did (its undo log has a deadline of
 * its own within the reserve), and the call fails with code 11 so the runtime tries again later.
 */
async function runWithinDeadline(timeoutMs: number, command: string, work: () => Promise<string | undefined>): Promise<string | undefined> {
  const reserve = Math.min(UNWIND_RESERVE_MS, timeoutMs / 4);
  const run = startWithDeadline(timeoutMs - reserve, work, reserve);
  const settled = run.work.then(
    (output) => ({ ok: true as const, output }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  try {
    const first = await Promise.race([settled, run.expired.then(() => undefined)]);
    if (first) {
      if (first.ok) return first.output;
      // A spawn killed at the deadline can fail the verb before the deadline's own timer fires.
      if (Date.now() < run.deadline.at) throw first.error;
      throw deadlinePassed(timeoutMs, command, toCniError(first.error, ErrorCode.TryAgainLater, command).message);
    }
    const grace = new AbortController();
    // Loaded only here: a call that ends within its deadline never needs it.
    const { setTimeout: sleep } = process.getBuiltinModule('node:timers/promises');
    const late = await Promise.race([settled, sleep(reserve, undefined, { signal: grace.signal }).catch(() => undefined)]);
    grace.abort();
    // A verb that completed all the same did its work: its result stands.
    if (late?.ok) return late.output;
    throw deadlinePassed(timeoutMs, command, late ? toCniError(late.error, ErrorCode.TryAgainLater, command).message : 'it was still running');
  } finally {
    run.clear();
  }
}

function deadlinePassed(timeoutMs: number, command: string, why: string): CniError {
  return new CniError(ErrorCode.TryAgainLater, `cannot complete ${command} within ${timeoutMs} ms (WEFT_CNI_TIMEOUT): try again later`, { details: why });
}

/** Time kept back from a call's deadline for undoing its work: a quarter of the deadline, at most this. */
export const UNWIND_RESERVE_MS = 5_000;

/** Runs one plugin invocation and returns the process exit code. */
export async function runPlugin<C>(plugin: Plugin<C>, io: PluginIO): Promise<number> {
  let version: string = CURRENT_VERSION;
  try {
    const command = parseCommand(io.env);
    const stdin = await io.readStdin();
    if (command === 'VERSION') {
      const asked = stdin.trim() ? parseStdin(stdin).cniVersion : undefined;
      io.writeStdout(JSON.stringify({ cniVersion: typeof asked === 'string' && isSupportedVersion(asked) ? asked : CURRENT_VERSION, supportedVersions: SUPPORTED_VERSIONS }));
      return 0;
    }
    version = negotiateVersion(parseStdin(stdin));
    const request = parseRequest(io.env);
    const output = await runWithinDeadline(parseCallTimeout(io.env), command, () => dispatch(plugin, request, stdin, version));
    if (output !== undefined) io.writeStdout(output);
    return 0;
  } catch (thrown) {
    const error = toCniError(thrown, ErrorCode.IOFailure, 'complete the request');
    io.logError(error);
    io.writeStdout(JSON.stringify({ cniVersion: version, code: error.code, msg: error.message, details: error.details }));
    return 1;
  }
}
