import { worst, type CheckResult, type CheckStatus } from '../doctor/check.ts';

// `kubectl weft doctor`: every node's `weft doctor --json`, merged into one table (a row per check, a
// column per node), then each problem with its node, evidence and fix. A node whose doctor could
// not run is an error in every row.

export interface NodeReport {
  readonly node: string;
  readonly checks?: readonly CheckResult[];
  /** Why there is no report: no weft-node Pod, exec failed. */
  readonly error?: string;
}

export function clusterExitCode(reports: readonly NodeReport[]): 0 | 1 | 2 {
  const statuses: CheckStatus[] = reports.flatMap((r) => (r.error ? ['error' as const] : (r.checks ?? []).map((c) => c.status)));
  const status = worst(statuses);
  return status === 'error' ? 2 : status === 'warn' ? 1 : 0;
}

export function renderDoctorTable(reports: readonly NodeReport[]): string {
  const ids = [...new Set(reports.flatMap((r) => (r.checks ?? []).map((c) => c.id)))];
  const width = Math.max(5, ...ids.map((id) => id.length));
  const columns = reports.map((r) => Math.max(r.node.length, 6));
  const row = (first: string, cells: string[]) => [first.padEnd(width), ...cells.map((c, i) => c.padEnd(columns[i] ?? 6))].join('  ').trimEnd();
  const lines = [row('CHECK', reports.map((r) => r.node))];
  for (const id of ids) lines.push(row(id, reports.map((r) => (r.error ? 'error' : (r.checks?.find((c) => c.id === id)?.status ?? '-')))));
  const problems: string[] = [];
  for (const r of reports) {
    if (r.error) problems.push('', `${r.node}: error: ${r.error}`);
    for (const c of r.checks ?? []) {
      if (c.status !== 'warn' && c.status !== 'error') continue;
      problems.push('', `${r.node} ${c.id}: ${c.status}: ${c.summary}`, ...c.evidence.map((e) => `  ${e}`), ...(c.fix ? [`  fix: ${c.fix}`] : []));
    }
  }
  const code = clusterExitCode(reports);
  lines.push(...problems, '', code === 0 ? `healthy: ${reports.length} node(s)` : `${code === 2 ? 'errors' : 'warnings'} on ${reports.filter((r) => r.error || r.checks?.some((c) => c.status === 'warn' || c.status === 'error')).map((r) => r.node).join(', ')}`);
  return `${lines.join('\n')}\n`;
}
