import { randomInt } from 'node:crypto';
import { isSea } from 'node:sea';
import { run, runInBackground } from '../../lib/exec.ts';
import type { Explanation } from '../model/explanation.ts';
import type { NodeState } from '../state/node-state.ts';
import { compareWithPrediction, type ProbeComparison } from './compare.ts';
import { probeTableName, renderProbeTable } from './probe-table.ts';
import { observePath, parseTraceEvents, type ObservedPath } from './trace-events.ts';

// --probe: one real packet from the source (the node itself, or a pod through its named network
// namespace), followed with the kernel's own tracing: `meta nftrace` set by a temporary table and
// read with `nft monitor trace`. It reports nf_tables trace events for every nftables table and for
// iptables-nft's rules too (the same events `xtables-monitor --trace` prints in iptables syntax).
// iptables-legacy's TRACE target logs through nf_log, which the kernel keeps off outside the initial
// namespace (net.netfilter.nf_log_all_netns=0), so legacy rules show only as a gap between chains.

const TRACING = 'nf_tables trace events: meta nftrace, read with nft monitor trace';

export interface ProbeReport {
  readonly tracing: string;
  readonly packet: string;
  /** What the sender saw: connected, refused, timeout, reply, no reply, unreachable. */
  readonly answer?: string;
  readonly observed?: ObservedPath;
  readonly comparison?: ProbeComparison;
  readonly error?: string;
}

const MONITOR_SETTLE_MS = 300;
const AFTER_SEND_MS = 400;

/** How to run this executable again: itself in a single executable, else Node with the entry script. */
function selfCommand(): string[] {
  return isSea() ? [process.execPath] : [process.execPath, process.argv[1] as string];
}

/** The network namespace to send from: ours for the node's own packets, the pod's named one for a pod. */
function senderNamespace(state: NodeState, e: Explanation): { netns?: string } | { error: string } {
  if (e.source.origin === 'node') return {};
  if (e.source.origin === 'remote') return { error: `the source ${e.packet.src} is not on this node: probe on the node it starts from` };
  const veth = state.kernel.links.find((l) => l.name === e.source.veth);
  const name = veth?.linkNetnsId !== undefined ? state.kernel.netnsNames.get(veth.linkNetnsId) : undefined;
  if (!name) return { error: `cannot find the network namespace of pod ${e.packet.src}: its host veth's peer namespace has no name under /run/netns` };
  return { netns: `/run/netns/${name}` };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function probePath(state: NodeState, e: Explanation): Promise<ProbeReport> {
  const { packet } = e;
  const sport = randomInt(40_000, 60_000);
  const text = `one ${packet.proto} packet ${packet.src}:${sport} -> ${packet.dst}${packet.dport !== undefined ? `:${packet.dport}` : ''}`;
  const base = { tracing: TRACING, packet: text };
  if (packet.dport === undefined) return { ...base, error: 'a probe needs a destination port (--to IP:PORT)' };
  const where = senderNamespace(state, e);
  if ('error' in where) return { ...base, error: where.error };
  const table = probeTableName(process.pid);
  const added = await run('nft', ['-f', '-'], { input: renderProbeTable(table, { src: packet.src, dst: packet.dst, sport, dport: packet.dport, proto: packet.proto }) });
  if (added.code !== 0) return { ...base, error: `cannot install the trace table: ${added.stderr.trim()}` };
  const monitor = runInBackground('nft', ['monitor', 'trace']);
  try {
    await sleep(MONITOR_SETTLE_MS);
    const [file, ...prefix] = selfCommand() as [string, ...string[]];
    const sent = await run(file, [...prefix, 'probe-send', '--from', packet.src, '--to', `${packet.dst}:${packet.dport}/${packet.proto}`, '--sport', String(sport)], { ...where, timeoutMs: 10_000 });
    await sleep(AFTER_SEND_MS);
    const trace = await monitor.stop('SIGTERM');
    const answer = sent.code === 0 ? (JSON.parse(sent.stdout) as { answer: string }).answer : `the sender failed: ${sent.stderr.trim()}`;
    const observed = observePath(parseTraceEvents(trace.stdout), table);
    if (!observed) return { ...base, answer, error: 'the kernel reported no trace of the probe packet' };
    return { ...base, answer, observed, comparison: compareWithPrediction(e, observed) };
  } finally {
    await monitor.stop('SIGTERM');
    await run('nft', ['delete', 'table', 'ip', table]);
  }
}
