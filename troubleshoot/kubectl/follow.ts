import type { Explanation, Handoff } from '../model/explanation.ts';

// A path across nodes: explain on the node the packet starts on, then wherever a branch hands it on
// (the overlay's FDB names the next node's underlay address), with the packet as it arrives there
// and the device it arrives on. Bounded, and no node is asked twice about the same packet.

export interface NodeExplanation {
  readonly node: string;
  readonly explanation: Explanation;
}

export interface FollowDeps {
  /** Runs `weft explain ... --json` on a node (by name) and returns its answer. */
  explainOn(node: string, argv: readonly string[]): Promise<Explanation>;
  /** The Node name holding an underlay address, if it is one of the cluster's. */
  nodeByAddress(ip: string): string | undefined;
}

const MAX_NODES = 4;

export function handoffArgs(h: Handoff): string[] {
  const to = `${h.packet.dst}${h.packet.dport !== undefined ? `:${h.packet.dport}` : ''}/${h.packet.proto}`;
  return ['--from', h.packet.src, '--to', to, '--size', String(h.packet.size), ...(h.device ? ['--in', h.device] : [])];
}

export async function followPath(first: { node: string; argv: readonly string[] }, deps: FollowDeps): Promise<NodeExplanation[]> {
  const answers: NodeExplanation[] = [];
  const asked = new Set<string>();
  const queue: { node: string; argv: readonly string[] }[] = [first];
  while (queue.length > 0 && answers.length < MAX_NODES) {
    const next = queue.shift() as { node: string; argv: readonly string[] };
    const key = `${next.node} ${next.argv.join(' ')}`;
    if (asked.has(key)) continue;
    asked.add(key);
    const explanation = await deps.explainOn(next.node, next.argv);
    answers.push({ node: next.node, explanation });
    for (const branch of explanation.branches) {
      const node = branch.handoff ? deps.nodeByAddress(branch.handoff.node) : undefined;
      if (branch.handoff && node) queue.push({ node, argv: handoffArgs(branch.handoff) });
    }
  }
  return answers;
}
