// One doctor check's answer: a status, the evidence it read, and the fix when something is wrong.
// The exit status of `weft doctor` is the worst status: 0 healthy, 1 warnings, 2 errors.

export type CheckStatus = 'ok' | 'warn' | 'error' | 'skip';

export interface CheckResult {
  readonly id: string;
  readonly status: CheckStatus;
  /** One line: what is right or wrong. */
  readonly summary: string;
  readonly evidence: readonly string[];
  readonly fix?: string;
}

export function check(id: string, status: CheckStatus, summary: string, more: { evidence?: readonly string[]; fix?: string } = {}): CheckResult {
  return { id, status, summary, evidence: more.evidence ?? [], ...(more.fix && status !== 'ok' && status !== 'skip' ? { fix: more.fix } : {}) };
}

/** The worst of several statuses: an error outweighs a warning outweighs ok. */
export function worst(statuses: readonly CheckStatus[]): CheckStatus {
  return statuses.includes('error') ? 'error' : statuses.includes('warn') ? 'warn' : 'ok';
}

export function exitCode(results: readonly CheckResult[]): 0 | 1 | 2 {
  const status = worst(results.map((r) => r.status));
  return status === 'error' ? 2 : status === 'warn' ? 1 : 0;
}

export function counts(results: readonly CheckResult[]): Record<CheckStatus, number> {
  const n: Record<CheckStatus, number> = { ok: 0, warn: 0, error: 0, skip: 0 };
  for (const r of results) n[r.status] += 1;
  return n;
}
