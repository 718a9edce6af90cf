import { run, startRun, type RunResult } from './exec.ts';
import { parseIpJson } from './ip-json.ts';

// All link, address, route and neighbour changes go through one `ip -batch -` per namespace:
// one spawn applies a whole plan, and a failing line is reported by number.

const MISSING = /Cannot find device|No such (device|process|file)|does not exist|Cannot assign requested address|not found/i;

/** True when an ip/bridge message says the object is not there (ENODEV, ESRCH, ENOENT, EADDRNOTAVAIL). */
export function saysMissing(message: string): boolean {
  return MISSING.test(message);
}

/** A value `ip -batch` must read as one word in double quotes (an interface alias, which holds spaces). */
export class Quoted {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

export function quoted(text: string): Quoted {
  return new Quoted(text);
}

// ip's batch reader cuts a line at "#", splits words on whitespace, strips quotes and exits on an
// unterminated one: a value holding any of those would reach the kernel as something else.
const PLAIN_WORD = /^[\x21-\x7e]+$/;
const WORD_BREAKERS = /["'#\\]/;
const QUOTED_TEXT = /^[\x20-\x7e]*$/;

function word(value: string | number | Quoted): string {
  if (typeof value === 'number') return String(value);
  if (value instanceof Quoted) {
    if (!QUOTED_TEXT.test(value.text) || /["#\\]/.test(value.text)) throw new Error(`cannot write ${JSON.stringify(value.text)} on an ip batch line: it holds a quote, "#", "\\" or a character outside printable ASCII`);
    return `"${value.text}"`;
  }
  if (!PLAIN_WORD.test(value) || WORD_BREAKERS.test(value)) throw new Error(`cannot write ${JSON.stringify(value)} on an ip batch line: it is empty or holds whitespace, a quote, "#", "\\" or a character outside printable ASCII`);
  return value;
}

/**
 * One `ip -batch` line with its values checked: `ipLine\`link set dev ${name} up\``. A value the batch
 * reader would split, cut or unquote throws instead, so the kernel sees exactly the names the caller meant.
 */
export function ipLine(strings: TemplateStringsArray, ...values: (string | number | Quoted)[]): string {
  return strings.reduce((line, text, i) => line + text + (i < values.length ? word(values[i]!) : ''), '');
}

export class IpBatchError extends Error {
  /** The failing line (1-based); undefined when ip stopped without naming one (it exits while parsing some arguments). */
  readonly line: number | undefined;
  readonly command: string;
  readonly detail: string;
  /** What the lines before the failing one printed (the JSON of a `show` line with json). */
  readonly output: string;
  constructor(line: number | undefined, command: string, detail: string, output = '') {
    super(line === undefined ? `cannot apply ip batch: ip stopped without naming the failing line: ${detail}` : `cannot apply "ip ${command}": ${detail}`);
    this.name = 'IpBatchError';
    this.line = line;
    this.command = command;
    this.detail = detail;
    this.output = output;
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
  return new IpBatchError(line, line === undefined ? '' : (lines[line - 1] ?? ''), detail || `exit ${result.code}`, result.stdout);
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

/**
 * Applies the commands in order and returns what they printed: with json, `show` lines print `ip
 * -json -details` output, so one spawn can read an object and change others. Throws IpBatchError
 * naming the first line that failed.
 */
export async function applyIpBatch(lines: readonly string[], options: { netns?: string; json?: boolean } = {}): Promise<string> {
  if (lines.length === 0) return '';
  return startIpBatch(options).apply(lines);
}

export interface StartedIpBatch {
  /** Applies the lines as applyIpBatch does; with no lines the started `ip` exits doing nothing. */
  apply(lines: readonly string[]): Promise<string>;
  /** Lets the started `ip` exit doing nothing unless apply was called. */
  cancel(): void;
}

/**
 * Starts `ip -batch -` before its lines are known, so its exec and start overlap the caller's work
 * until apply (each spawn costs ~10 ms, docs/PERFORMANCE.md).
 */
export function startIpBatch(options: { netns?: string; json?: boolean } = {}): StartedIpBatch {
  const target = ipInNetns([...(options.json ? ['-json', '-details'] : []), '-batch', '-'], options.netns);
  const started = startRun('ip', target.args, { netns: target.netns });
  return {
    apply: async (lines) => {
      const result = await started.finish(lines.length ? lines.join('\n') + '\n' : '');
      if (result.code !== 0) throw parseIpBatchFailure(lines, result);
      return result.stdout;
    },
    cancel: () => started.cancel(),
  };
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
