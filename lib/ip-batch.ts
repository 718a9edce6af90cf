import { run, type RunResult } from './exec.ts';
import { parseIpJson } from './ip-json.ts';

// weftd's and the troubleshooting commands' link, address, route and neighbour changes go through one
// `ip -batch -` per namespace (the CNI plugins use lib/netlink): one spawn applies a whole plan, and a
// failing line is reported by number.

const MISSING = /Cannot find device|No such (device|process|file)|does not exist|Cannot assign requested address|not found/i;

/** True when an ip/bridge message says the object is not there (ENODEV, ESRCH, ENOENT, EADDRNOTAVAIL). */
export function saysMissing(message: string): boolean {
  return MISSING.test(message);
}

// ip's batch reader cuts a line at "#", splits words on whitespace, strips quotes and exits on an
// unterminated one: a value holding any of those would reach the kernel as something else.
const PLAIN_WORD = /^[\x21-\x7e]+$/;
const WORD_BREAKERS = /["'#\\]/;

function word(value: string | number): string {
  if (typeof value === 'number') return String(value);
  if (!PLAIN_WORD.test(value) || WORD_BREAKERS.test(value)) throw new Error(`cannot write ${JSON.stringify(value)} on an ip batch line: it is empty or holds whitespace, a quote, "#", "\\" or a character outside printable ASCII`);
  return value;
}

/**
 * One `ip -batch` line with its values checked: `ipLine\`link set dev ${name} up\``. A value the batch
 * reader would split, cut or unquote throws instead, so the kernel sees exactly the names the caller meant.
 */
export function ipLine(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  return strings.reduce((line, text, i) => line + text + (i < values.length ? word(values[i]!) : ''), '');
}

export class IpBatchError extends Error {
  /** The failing line (1-based); undefined when ip stopped without naming one (it exits while parsing some arguments). */
  readonly line: number | undefined;
  readonly command: string;
  readonly detail: string;
  constructor(line: number | undefined, command: string, detail: string) {
    super(line === undefined ? `cannot apply ip batch: ip stopped without naming the failing line: ${detail}` : `cannot apply "ip ${command}": ${detail}`);
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
  const line = match ? Number(match[1]) : undefined;
  const detail = result.stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('Command failed'))
    .join('; ');
  return new IpBatchError(line, line === undefined ? '' : (lines[line - 1] ?? ''), detail || `exit ${result.code}`);
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

/** Applies the commands in order; throws IpBatchError naming the first line that failed. */
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

/**
 * Runs one `ip -json` query and parses its output; an absent object yields an empty list. Entries
 * that are not JSON even after escaping (see lib/ip-json.ts) are left out: weft never makes such names.
 */
export async function queryIpJson<T>(args: readonly string[], options: { netns?: string } = {}): Promise<T[]> {
  const target = ipInNetns(['-json', ...args], options.netns);
  const result = await run('ip', target.args, { netns: target.netns });
  if (result.code !== 0) {
    if (/does not exist|Cannot find device/i.test(result.stderr)) return [];
    throw new Error(`cannot run "ip ${args.join(' ')}": ${result.stderr.trim()}`);
  }
  return parseIpJson<T>(result.stdout).entries;
}
