import type { KernelState } from './kernel-state.ts';
import { readKernelState } from './read-kernel-state.ts';
import { readRulesets, type Rulesets } from './rulesets.ts';
import { readWeftState, type WeftPaths, type WeftState } from './weft-state.ts';

// Everything explain and doctor judge a node by, read once, before any judgement: the kernel's
// tables, the rulesets of every packet-filter backend, and weft's own files, daemons and leases.

export interface NodeState {
  readonly kernel: KernelState;
  readonly rulesets: Rulesets;
  readonly weft: WeftState;
}

export async function readNodeState(paths: WeftPaths, options: { leases: boolean }): Promise<NodeState> {
  const [kernel, rulesets] = await Promise.all([readKernelState(), readRulesets()]);
  return { kernel, rulesets, weft: await readWeftState(kernel, paths, options) };
}
