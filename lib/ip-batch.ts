import { run, type RunResult } from './exec.ts';

// All link, address, route and neighbour changes go through one `ip -batch -` per namespace:
// one spawn applies a whole plan (7 commands in ~5 ms), and a failing line is reported by number.

const MISSING = /Cannot find device|No such (device|process|file)|does not exist|Cannot assign requested address|not found/i;

/** True when an ip/bridge message says the object is not there (ENODEV, ESRCH, ENOENT, EADDRNOTAVAIL). */
export function saysMissing(message: string): boolean {
  return MISSING.test(message);
}

export class IpBatchError extends Error {
  readonly line: number;
  readonly command: string;
  readonly detail: string;
  constructor(line: number, command: string, detail: string) {
    super(`cannot apply "ip ${command}": ${detail}`);
    this.name = 'IpBatchError';
    this.line = line;
    this.command = command;
    this.detail = detail;
  }
  /** True when the kernel said the object already exists (EEXIST). */
  get exists(): boolean {
    return /File exists/i.test(this.detail);
  }
  /** True when the kernel said the object is not there (ENODEV, ESRCH, ENOENT, EADDRNOTAVAIL). */
  get missing(): boolean {
    return saysMissing(this.detail);
  }
}

/** Parses `ip -batch` stderr into the first failing line (ip stops at the first error unless -force). */
export function parseIpBatchFailure(lines: readonly string[], result: RunResult): IpBatchError {
  const match = /Command failed -:(\d+)/.exec(result.stderr);
  const line = match ? Number(match[1]) : 0;
  const detail = result.stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('Command failed'))
    .join('; ');
  return new IpBatchError(line, lines[line - 1] ?? '', detail || `exit ${result.code}`);
}

// `ip -n NAME` switches namespace itself for names under /run/netns (where runtimes put them),
// saving the nsenter exec; other paths (e.g. /proc/PID/ns/net) go through nsenter.
const NAMED_NETNS = /^\/(?:var\/)?run\/netns\/([A-Za-z0-9_.-]+)$/;

/** The `ip` arguments and spawn options that run `ip ARGS` inside a namespace given by path. */
function ipInNetns(args: readonly string[], netns: string | undefined): { args: string[]; netns?: string } {
  const name = netns ? NAMED_NETNS.exec(netns)?.[1] : undefined;
  if (name) return { args: ['-n', name, ...args] };
  return netns ? { args: [...args], netns } : { args: [...args] };
}

/** Applies the commands in order; throws IpBatchError naming the first one that failed. */
export async function applyIpBatch(lines: readonly string[], options: { netns?: string } = {}): Promise<void> {
  if (lines.length === 0) return;
  const target = ipInNetns(['-batch', '-'], options.netns);
  const result = await run('ip', target.args, { input: lines.join('\n') + '\n', netns: target.netns });
  if (result.code !== 0) throw parseIpBatchFailure(lines, result);
}

/** Applies `bridge -batch -` (FDB, VLAN) the same way; throws IpBatchError naming the failing line. */
export async function applyBridgeBatch(lines: readonly string[], options: { netns?: string } = {}): Promise<void> {
  if (lines.length === 0) return;
  const result = await run('bridge', ['-batch', '-'], { input: lines.join('\n') + '\n', netns: options.netns });
  if (result.code !== 0) throw parseIpBatchFailure(lines, result);
}

/** Runs one `ip -json` query and parses its output; an absent object yields an empty list. */
export async function queryIpJson<T>(args: readonly string[], options: { netns?: string } = {}): Promise<T[]> {
  const target = ipInNetns(['-json', ...args], options.netns);
  const result = await run('ip', target.args, { netns: target.netns });
  if (result.code !== 0) {
    if (/does not exist|Cannot find device/i.test(result.stderr)) return [];
    throw new Error(`cannot run "ip ${args.join(' ')}": ${result.stderr.trim()}`);
  }
  const text = result.stdout.trim();
  return text === '' ? [] : (JSON.parse(text) as T[]);
}
