import { isInterfaceName, isPlainName } from '../../lib/names.ts';
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
}

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
    if (!isPlainName(containerId)) throw envError(`invalid CNI_CONTAINERID "${containerId}": letters, digits, "_", "." and "-" only`);
    if (!ifname) throw envError('missing environment variable CNI_IFNAME');
    if (!isInterfaceName(ifname)) throw envError(`invalid CNI_IFNAME "${ifname}"`);
    if (command !== 'DEL' && !netns) throw envError('missing environment variable CNI_NETNS');
  }
  if (netns !== undefined && !netns.startsWith('/')) throw envError(`invalid CNI_NETNS "${netns}": not an absolute path`);
  const path = (env.CNI_PATH ?? '').split(':').filter((p) => p !== '');
  if (path.length === 0 && perContainer) throw envError('missing environment variable CNI_PATH');
  return { command, containerId, netns, ifname, args: parseCniArgs(env.CNI_ARGS), path };
}
