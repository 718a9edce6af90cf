import { parseDuration } from '../../lib/duration.ts';
import { CONTAINER_ID_MAX, interfaceNameProblem, isPlainName } from '../../lib/names.ts';
import { CniError, ErrorCode } from './errors.ts';
import type { Verb } from './types.ts';

// The runtime's environment, parsed and validated once. Handlers receive this, never process.env.

export interface Request {
  command: Verb;
  containerId: string;
  /** Path of the container's network namespace; absent for DEL after the namespace is gone, and for STATUS/GC. */
  netns?: string;
  ifname: string;
  /** CNI_ARGS as key/value pairs. */
  args: ReadonlyMap<string, string>;
  /** CNI_PATH, split on ':'. */
  path: readonly string[];
  /** How many plugins delegated to reach this one (WEFT_CNI_DEPTH; 0 when the runtime called it). */
  depth: number;
}

/** How long a call may take unless WEFT_CNI_TIMEOUT says otherwise; below the runtimes' own limits (kubelet's 2 minutes). */
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;
const MAX_CALL_TIMEOUT_MS = 3_600_000;
/** A runtime's plugin at depth 0, its delegate (weft-bridge under weft-vxlan) at 1, IPAM at 2: 3 leaves one level spare. */
export const MAX_DELEGATION_DEPTH = 3;

const VERBS: readonly Verb[] = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'];

function envError(msg: string): CniError {
  return new CniError(ErrorCode.InvalidEnvironment, msg);
}

export function parseCniArgs(value: string | undefined): Map<string, string> {
  const args = new Map<string, string>();
  if (!value) return args;
  for (const pair of value.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw envError(`invalid CNI_ARGS: "${pair}" is not KEY=VALUE`);
    args.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return args;
}

/** WEFT_CNI_TIMEOUT, a Go duration ("30s"), bounds the whole call; a delegating plugin sets it for its delegate. */
export function parseCallTimeout(env: NodeJS.ProcessEnv): number {
  const text = env.WEFT_CNI_TIMEOUT;
  if (text === undefined || text === '') return DEFAULT_CALL_TIMEOUT_MS;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 1 || ms > MAX_CALL_TIMEOUT_MS) throw envError(`invalid WEFT_CNI_TIMEOUT "${text}": must be a duration from 1ms to 1h, such as "30s"`);
  return ms;
}

function parseDepth(env: NodeJS.ProcessEnv): number {
  const text = env.WEFT_CNI_DEPTH;
  if (text === undefined || text === '') return 0;
  if (!/^[0-9]$/.test(text)) throw envError(`invalid WEFT_CNI_DEPTH "${text}": must be a digit`);
  return Number(text);
}

export function parseCommand(env: NodeJS.ProcessEnv): Verb {
  const command = env.CNI_COMMAND;
  if (!command) throw envError('missing environment variable CNI_COMMAND');
  if (!(VERBS as readonly string[]).includes(command)) throw envError(`unknown CNI_COMMAND "${command}"`);
  return command as Verb;
}

/** Validates the variables each verb needs (spec: "Parameters"). */
export function parseRequest(env: NodeJS.ProcessEnv): Request {
  const command = parseCommand(env);
  const perContainer = command === 'ADD' || command === 'DEL' || command === 'CHECK';
  const containerId = env.CNI_CONTAINERID ?? '';
  const ifname = env.CNI_IFNAME ?? '';
  const netns = env.CNI_NETNS || undefined;
  if (perContainer) {
    if (!containerId) throw envError('missing environment variable CNI_CONTAINERID');
    // The spec allows container IDs of letters, digits and _ . - (they must also be safe in file names).
    if (!isPlainName(containerId)) throw envError(`invalid CNI_CONTAINERID ${JSON.stringify(containerId.slice(0, 80))}: letters, digits, "_", "." and "-" only, starting with a letter or digit`);
    if (containerId.length > CONTAINER_ID_MAX) throw envError(`invalid CNI_CONTAINERID: ${containerId.length} characters long, at most ${CONTAINER_ID_MAX}`);
    if (!ifname) throw envError('missing environment variable CNI_IFNAME');
    const problem = interfaceNameProblem(ifname);
    if (problem) throw envError(`invalid CNI_IFNAME ${JSON.stringify(ifname)}: it ${problem}`);
    if (command !== 'DEL' && !netns) throw envError('missing environment variable CNI_NETNS');
  }
  // The path lands on `ip -batch` lines: whitespace, quotes, "#" or control characters would change the command.
  if (netns !== undefined && !/^\/[\x21-\x7e]*$/.test(netns)) throw envError(`invalid CNI_NETNS ${JSON.stringify(netns)}: not an absolute path of printable characters`);
  if (netns !== undefined && /["'#\\]/.test(netns)) throw envError(`invalid CNI_NETNS ${JSON.stringify(netns)}: it holds a quote, "#" or "\\"`);
  const path = (env.CNI_PATH ?? '').split(':').filter((p) => p !== '');
  if (path.length === 0 && perContainer) throw envError('missing environment variable CNI_PATH');
  const depth = parseDepth(env);
  if (depth > MAX_DELEGATION_DEPTH) {
    throw new CniError(ErrorCode.InvalidConfig, `cannot delegate deeper than ${MAX_DELEGATION_DEPTH} plugins: does a "type" or "ipam.type" lead back to a plugin that delegates?`);
  }
  return { command, containerId, netns, ifname, args: parseCniArgs(env.CNI_ARGS), path, depth };
}
