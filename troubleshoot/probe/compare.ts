import type { Explanation, PathBranch } from '../model/explanation.ts';
import type { ObservedPath } from './trace-events.ts';

// The prediction beside what the kernel did with the one probe packet: which endpoint it went to, the
// hooks it passed, the device and source address it left with, and whether it got through. Any
// difference is flagged: either the live state changed in between, or the model is wrong.

export interface ProbeCheck {
  readonly what: string;
  readonly predicted: string;
  readonly observed: string;
  readonly same: boolean;
}

export interface ProbeComparison {
  readonly agrees: boolean;
  readonly checks: readonly ProbeCheck[];
}

function hooksText(hooks: readonly string[], stoppedIn?: string): string {
  return `${hooks.join(' > ') || 'none'}${stoppedIn ? ` (stopped in ${stoppedIn})` : ''}`;
}

function predictedHooks(branch: PathBranch): string {
  const failed = branch.outcome === 'dropped' || branch.outcome === 'rejected';
  const lastHop = branch.hops[branch.hops.length - 1];
  const inHook = failed && lastHop?.kind === 'netfilter' ? branch.hooks[branch.hooks.length - 1] : undefined;
  return hooksText(branch.hooks, inHook);
}

function observedHooks(observed: ObservedPath): string {
  const last = observed.hooks[observed.hooks.length - 1];
  return hooksText(observed.hooks.map((h) => h.hook), last && !last.passed ? last.hook : undefined);
}

export function compareWithPrediction(e: Explanation, observed: ObservedPath): ProbeComparison {
  const branch = e.branches.find((b) => b.to === observed.to) ?? e.branches[0];
  const checks: ProbeCheck[] = [];
  const tos = e.branches.map((b) => b.to);
  if (observed.to !== undefined) checks.push({ what: 'destination after DNAT', predicted: tos.join(' or '), observed: observed.to, same: tos.includes(observed.to) });
  if (branch) {
    checks.push({ what: 'hooks', predicted: predictedHooks(branch), observed: observedHooks(observed), same: predictedHooks(branch) === observedHooks(observed) });
    if (branch.exit) {
      const oif = observed.exit?.oif ?? '(did not leave)';
      checks.push({ what: 'leaves through', predicted: branch.exit.oif ?? '?', observed: oif, same: branch.exit.oif === observed.exit?.oif });
      checks.push({ what: 'source address leaving', predicted: branch.exit.src, observed: observed.exit?.src ?? '(did not leave)', same: branch.exit.src === observed.exit?.src });
    }
    const predictedPasses = branch.outcome === 'delivered' || branch.outcome === 'leaves';
    const observedPasses = observed.hooks.length > 0 && observed.hooks.every((h) => h.passed) && observed.stoppedBy === undefined && (observed.exit !== undefined || observed.hooks.some((h) => h.hook === 'input'));
    checks.push({
      what: 'gets through this node',
      predicted: predictedPasses ? 'yes' : `no (${branch.cause?.code ?? branch.outcome})`,
      observed: observedPasses ? 'yes' : `no${observed.stoppedBy ? ` (${observed.stoppedBy})` : ''}`,
      same: predictedPasses === observedPasses,
    });
  }
  return { agrees: checks.every((c) => c.same), checks };
}
