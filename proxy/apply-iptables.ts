import { run } from '../lib/exec.ts';
import type { ProxyConfig } from './config.ts';
import { builtinJumps, missingJumps } from './iptables/jumps.ts';
import { renderIptables } from './iptables/render.ts';
import { hairpinAddresses, parseSaved } from './iptables/saved.ts';
import type { ProxyState } from './state.ts';

// The only proxy code that touches the kernel: detects which iptables backend the node uses, reads
// the current rules, and applies one `iptables-restore --noflush` per sync, fed on stdin.

export type IptablesBackend = 'nft' | 'legacy';

export interface ApplyOptions {
  /** Run inside this network namespace (tests; a proxy on a node runs in the host namespace). */
  readonly netns?: string;
}

export class RestoreError extends Error {
  readonly line: number;
  readonly text: string;
  constructor(line: number, text: string, detail: string) {
    super(`cannot apply iptables rules: line ${line} "${text}" failed: ${detail}`);
    this.name = 'RestoreError';
    this.line = line;
    this.text = text;
  }
}

/** `iptables --version` prints "iptables v1.8.9 (nf_tables)" or "(legacy)". */
export function parseBackend(versionOutput: string): IptablesBackend {
  if (versionOutput.includes('(nf_tables)')) return 'nft';
  if (versionOutput.includes('(legacy)')) return 'legacy';
  throw new Error(`cannot detect the iptables backend: unexpected version "${versionOutput.trim()}"`);
}

/**
 * Names the payload line iptables-restore reported: "Error occurred at line: N" (nft may point at the
 * COMMIT that applied the faulty rule) or "line N failed".
 */
export function parseRestoreFailure(payload: string, stderr: string): RestoreError {
  const match = /Error occurred at line: (\d+)|line (\d+) failed/.exec(stderr);
  const line = Number(match?.[1] ?? match?.[2] ?? 0);
  const detail = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^Error occurred at line|^Try `|line \d+ failed$/.test(l))
    .join('; ');
  return new RestoreError(line, payload.split('\n')[line - 1] ?? '', detail || stderr.trim());
}

export async function detectBackend(options: ApplyOptions = {}): Promise<IptablesBackend> {
  const result = await run('iptables', ['--version'], options);
  return parseBackend(result.stdout + result.stderr);
}

export async function saveRules(backend: IptablesBackend, options: ApplyOptions = {}): Promise<string> {
  const result = await run(`iptables-${backend}-save`, [], options);
  if (result.code !== 0) throw new Error(`cannot read iptables rules: iptables-${backend}-save exit ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}

export async function restoreRules(payload: string, backend: IptablesBackend, options: ApplyOptions = {}): Promise<void> {
  const result = await run(`iptables-${backend}-restore`, ['--noflush', '-w'], { ...options, input: payload });
  if (result.code !== 0) throw parseRestoreFailure(payload, result.stderr);
}

export interface SyncOptions extends ApplyOptions {
  readonly backend?: IptablesBackend;
  /** Partial sync: only these Services' chains are rewritten. */
  readonly changedServices?: ReadonlySet<string>;
}

/** One sync: read what is there, render what is missing or changed, apply it in one restore. Returns the payload. */
export async function syncIptables(state: ProxyState, config: ProxyConfig, options: SyncOptions = {}): Promise<string> {
  const backend = options.backend ?? (await detectBackend(options));
  const saved = parseSaved(await saveRules(backend, options));
  const payload = renderIptables(state, config, {
    ...(options.changedServices ? { changedServices: options.changedServices, currentHairpin: hairpinAddresses(saved) } : {}),
    existingChains: saved.chains,
    jumps: missingJumps(builtinJumps(), saved),
  });
  await restoreRules(payload, backend, options);
  return payload;
}
