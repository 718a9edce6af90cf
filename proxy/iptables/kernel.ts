import { run } from '../../lib/exec.ts';
import { loaderEnvironment } from '../core/loader-environment.ts';

// The only iptables code that touches the kernel: which iptables the node uses (nf_tables or legacy),
// reading the current rules, and one `iptables-restore --noflush` per sync fed on stdin. Unit tests
// inject a recording fake instead.

export type IptablesVariant = 'nft' | 'legacy';

export interface ApplyOptions {
  /** Run inside this network namespace (tests; a proxy on a node runs in the host namespace). */
  readonly netns?: string;
  /** Use this variant instead of asking `iptables --version` (tests of both on one machine). */
  readonly variant?: IptablesVariant;
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

export interface IptablesKernel {
  /** The variant the node's `iptables` is, or undefined when iptables is not installed. */
  variant(): Promise<IptablesVariant | undefined>;
  /** `iptables-save` of both tables. */
  save(): Promise<string>;
  /** One `iptables-restore --noflush`; throws RestoreError naming the line it refused (nothing changes then). */
  restore(payload: string): Promise<void>;
}

/** `iptables --version` prints "iptables v1.8.9 (nf_tables)" or "(legacy)". */
export function parseVariant(versionOutput: string): IptablesVariant {
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

function isMissingProgram(error: unknown): boolean {
  return (error as { code?: unknown }).code === 'ENOENT';
}

/** The node's iptables (or the one in `netns`, for tests); the variant is detected once. */
export function iptablesKernel(options: ApplyOptions = {}): IptablesKernel {
  const exec = { ...(options.netns ? { netns: options.netns } : {}), env: loaderEnvironment() };
  let detected: Promise<IptablesVariant | undefined> | undefined = options.variant ? Promise.resolve(options.variant) : undefined;
  const variant = () =>
    (detected ??= run('iptables', ['--version'], exec).then(
      (result) => parseVariant(result.stdout + result.stderr),
      (error: unknown) => {
        if (isMissingProgram(error)) return undefined;
        throw error;
      },
    ));
  const required = async (): Promise<IptablesVariant> => {
    const v = await variant();
    if (v === undefined) throw new Error('cannot use iptables: the iptables program is not installed');
    return v;
  };
  return {
    variant,
    async save() {
      const v = await required();
      const result = await run(`iptables-${v}-save`, [], exec);
      if (result.code !== 0) throw new Error(`cannot read iptables rules: iptables-${v}-save exit ${result.code}: ${result.stderr.trim()}`);
      return result.stdout;
    },
    async restore(payload) {
      if (payload === '') return;
      const v = await required();
      const result = await run(`iptables-${v}-restore`, ['--noflush', '-w'], { ...exec, input: payload });
      if (result.code !== 0) throw parseRestoreFailure(payload, result.stderr);
    },
  };
}
