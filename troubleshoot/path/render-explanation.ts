import { formatProbability } from '../netfilter/flow.ts';
import type { Explanation, Hop } from '../model/explanation.ts';

// `weft explain`'s text output: the packet, the hops numbered in order with their evidence indented
// under them, one block per branch when a Service forks the path, then the verdict, the cause and the
// fix. --json prints the Explanation itself.

const STATUS: Record<Hop['status'], string> = { pass: 'ok', drop: 'DROP', reject: 'REJECT', deliver: 'delivered', leave: 'leaves' };

function packetLine(e: Explanation): string {
  const p = e.packet;
  return `${p.src} -> ${p.dst}${p.dport !== undefined ? `:${p.dport}` : ''}/${p.proto}, ${p.size} bytes`;
}

function hopLines(hop: Hop, number: number, indent: string): string[] {
  const lines = [`${indent}${String(number).padStart(2)}. ${hop.title}: ${STATUS[hop.status]} - ${hop.summary}${hop.mtu !== undefined ? ` [MTU ${hop.mtu}]` : ''}`];
  for (const line of hop.evidence) lines.push(`${indent}      ${line}`);
  if (hop.cause) lines.push(`${indent}      cause: ${hop.cause.message}`);
  return lines;
}

export function renderExplanation(e: Explanation): string {
  const lines = [`${packetLine(e)}${e.node ? ` on node ${e.node}` : ''} (proxy: ${e.proxyMode})`, ''];
  let n = 0;
  for (const hop of e.hops) lines.push(...hopLines(hop, ++n, ''));
  const forked = e.branches.length > 1;
  for (const branch of e.branches) {
    let m = n;
    if (forked) lines.push('', `to ${branch.to}${formatProbability(branch.probability)}:`);
    for (const hop of branch.hops) lines.push(...hopLines(hop, ++m, forked ? '  ' : ''));
    if (branch.handoff) {
      const h = branch.handoff;
      lines.push(`${forked ? '  ' : ''}      next: explain on node ${h.node} with --from ${h.packet.src} --to ${h.packet.dst}${h.packet.dport !== undefined ? `:${h.packet.dport}` : ''}/${h.packet.proto}${h.device ? ` --in ${h.device}` : ''}`);
    }
  }
  lines.push('', `verdict: ${e.verdict.kind}: ${e.verdict.summary}`);
  for (const cause of e.verdict.causes) {
    lines.push(`cause: ${cause.message}`);
    if (cause.fix) lines.push(`fix: ${cause.fix}`);
  }
  if (e.notes.length > 0) lines.push('', 'notes:', ...e.notes.map((note) => `  - ${note}`));
  return `${lines.join('\n')}\n`;
}
