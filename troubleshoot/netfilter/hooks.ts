import { MAX_BRANCHES, withNote, type BaseChainRef, type Branch, type ChainEvaluator, type Hook, type NodeFacts, type Outcome } from './flow.ts';

// A hook runs the base chains of every engine registered on it (nftables tables, iptables-nft,
// iptables-legacy) in priority order. nat chains follow the kernel's rule: for one direction, the nat
// chains of a hook run until one of them translated the connection, the later ones are skipped.

export interface HookResult {
  /** Branches every chain accepted, with the flow as the last chain left it. */
  readonly accepted: readonly Branch[];
  /** Branches a chain dropped or rejected. */
  readonly stopped: readonly Outcome[];
  /** The base chains that ran, in order (evidence). */
  readonly chains: readonly BaseChainRef[];
}

/** Destination NAT happens in prerouting and output, source NAT in postrouting and input. */
function translated(hook: Hook, branch: Branch): boolean {
  return hook === 'prerouting' || hook === 'output' ? branch.flow.dnat : branch.flow.snat;
}

function chainsOn(evaluators: readonly ChainEvaluator[], hook: Hook): { ref: BaseChainRef; evaluator: ChainEvaluator }[] {
  return evaluators
    .flatMap((evaluator) => evaluator.baseChains().map((ref) => ({ ref, evaluator })))
    .filter((c) => c.ref.hook === hook)
    .sort((a, b) => a.ref.priority - b.ref.priority);
}

/** Keeps the most likely branches when random forks multiply past MAX_BRANCHES. */
function bounded(branches: Branch[]): Branch[] {
  if (branches.length <= MAX_BRANCHES) return branches;
  const kept = [...branches].sort((a, b) => b.probability - a.probability).slice(0, MAX_BRANCHES);
  return kept.map((b) => withNote(b, `only the ${MAX_BRANCHES} most likely of ${branches.length} branches were followed`));
}

export function walkHook(evaluators: readonly ChainEvaluator[], hook: Hook, branches: readonly Branch[], facts: NodeFacts): HookResult {
  const chains = chainsOn(evaluators, hook);
  let active: Branch[] = [...branches];
  const stopped: Outcome[] = [];
  for (const { ref, evaluator } of chains) {
    const next: Branch[] = [];
    for (const branch of active) {
      if (ref.nat && translated(hook, branch)) {
        next.push(branch);
        continue;
      }
      for (const outcome of evaluator.evaluate(ref, branch, facts)) {
        if (outcome.end === 'accept') next.push(outcome.branch);
        else stopped.push(outcome);
      }
    }
    active = bounded(next);
  }
  return { accepted: active, stopped, chains: chains.map((c) => c.ref) };
}
