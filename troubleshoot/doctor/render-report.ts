import { counts, type CheckResult } from './check.ts';

// `weft doctor`'s text output: one line per check, then each problem with its evidence and fix.

export function renderReport(results: readonly CheckResult[]): string {
  const width = Math.max(5, ...results.map((r) => r.id.length));
  const lines = [`${'CHECK'.padEnd(width)}  STATUS  SUMMARY`];
  for (const r of results) lines.push(`${r.id.padEnd(width)}  ${r.status.padEnd(6)}  ${r.summary}`);
  const problems = results.filter((r) => r.status === 'warn' || r.status === 'error');
  for (const r of problems) {
    lines.push('', `${r.id}: ${r.status}: ${r.summary}`);
    for (const e of r.evidence) lines.push(`  ${e}`);
    if (r.fix) lines.push(`  fix: ${r.fix}`);
  }
  const n = counts(results);
  lines.push('', `${n.ok} ok, ${n.warn} warning(s), ${n.error} error(s), ${n.skip} skipped`);
  return `${lines.join('\n')}\n`;
}
