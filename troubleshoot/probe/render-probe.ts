import type { ProbeReport } from './run-probe.ts';

// The probe's part of `weft explain --probe`: what was sent, how it was traced, the kernel's path and
// each prediction beside it, differences flagged.

export function renderProbe(report: ProbeReport): string {
  const lines = ['', `probe: ${report.packet}`, `  traced with ${report.tracing}`];
  if (report.answer) lines.push(`  answer: ${report.answer}`);
  if (report.error) lines.push(`  cannot compare: ${report.error}`);
  if (report.observed) {
    lines.push('  kernel trace:');
    for (const rule of report.observed.rules) lines.push(`    ${rule}`);
  }
  if (report.comparison) {
    lines.push(`  ${report.comparison.agrees ? 'the kernel took the predicted path' : 'the kernel took a DIFFERENT path:'}`);
    for (const c of report.comparison.checks) lines.push(`    ${c.same ? 'same' : 'DIFF'}  ${c.what}: predicted ${c.predicted}; kernel ${c.observed}`);
  }
  return `${lines.join('\n')}\n`;
}
