import { isObject } from '../../lib/json.ts';
import { isPlainName } from '../../lib/names.ts';
import { CniError, ErrorCode, toCniError } from './errors.ts';
import { parseCommand, parseRequest, type Request } from './request.ts';
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
  if (typeof conf.name !== 'string' || !isPlainName(conf.name)) {
    throw new CniError(ErrorCode.InvalidConfig, 'invalid config: "name" must be letters, digits, "_", "." and "-"');
  }
  if (typeof conf.type !== 'string' || conf.type === '') throw new CniError(ErrorCode.InvalidConfig, 'invalid config: missing "type"');
  return { ...conf, cniVersion: version } as NetConf;
}

async function dispatch<C>(plugin: Plugin<C>, io: PluginIO, stdin: string, version: string): Promise<void> {
  const request = parseRequest(io.env);
  assertVerbSupported(request.command, version);
  const conf = validateNetConf(parseStdin(stdin), version);
  const ctx: Context<C> = { request, conf, stdin, config: plugin.parseConfig(conf, request) };
  switch (request.command) {
    case 'ADD':
      io.writeStdout(JSON.stringify(renderResult(await plugin.add(ctx), version)));
      return;
    case 'DEL':
      return plugin.del(ctx);
    case 'CHECK':
      return plugin.check(ctx);
    case 'STATUS':
      return plugin.status(ctx);
    case 'GC':
      return plugin.gc(ctx, parseValidAttachments(conf));
    case 'VERSION':
      return;
  }
}

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
    await dispatch(plugin, io, stdin, version);
    return 0;
  } catch (thrown) {
    const error = toCniError(thrown, ErrorCode.IOFailure, 'complete the request');
    io.logError(error);
    io.writeStdout(JSON.stringify({ cniVersion: version, code: error.code, msg: error.message, details: error.details }));
    return 1;
  }
}
