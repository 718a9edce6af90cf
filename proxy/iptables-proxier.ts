import type { Logger } from '../lib/log.ts';
import { detectBackend, restoreRules, saveRules, type IptablesBackend } from './apply-iptables.ts';
import type { Changes } from './change-tracker.ts';
import type { ProxyConfig } from './config.ts';
import { deleteConntrackFlows, staleUdpFlows } from './conntrack.ts';
import { appliedFromSaved, applyPayload, countRules, type AppliedRules } from './iptables/applied.ts';
import { builtinJumps, missingJumps } from './iptables/jumps.ts';
import { renderIptables } from './iptables/render.ts';
import { parseSaved } from './iptables/saved.ts';
import type { ClusterObjects } from './objects.ts';
import { buildProxyState, type ProxyState } from './state.ts';

// One sync of the iptables data plane: objects -> desired state -> one `iptables-restore --noflush`.
// A full sync reads the kernel first and declares every chain (a restarted proxy replaces the old
// rules atomically, never flushing them first); a partial sync rewrites only changed Services' chains
// against what this process applied last. A failed restore changes nothing (one transaction per
// table) and leaves the memory as it was; the loop then asks for a full sync.

export interface SyncOutcome {
  readonly state: ProxyState;
  readonly payload: string;
  /** Rules of ours after the sync, known after full syncs only. */
  readonly totalRules?: Record<'nat' | 'filter', number>;
  readonly writtenRules: Record<'nat' | 'filter', number>;
  readonly conntrackDeletions: number;
}

export interface ProxierOptions {
  readonly log: Logger;
  /** Run iptables and conntrack in this namespace (tests); the daemon runs in the node's own. */
  readonly netns?: string;
}

/** `--nodeport-addresses primary` means this Node's own addresses. */
export function resolveNodePortAddresses(flags: readonly string[], objects: ClusterObjects, hostname: string): string[] {
  const node = objects.nodes.find((n) => n.name === hostname);
  return flags.flatMap((a) => (a === 'primary' ? (node?.addresses ?? []).map((ip) => `${ip}/32`) : [a]));
}

export class IptablesProxier {
  readonly #options: ProxierOptions;
  #backend: IptablesBackend | undefined;
  #applied: AppliedRules | undefined;
  #lastState: ProxyState | undefined;

  constructor(options: ProxierOptions) {
    this.#options = options;
  }

  async sync(kind: 'full' | 'partial', objects: ClusterObjects, options: { config: ProxyConfig; changes: Changes }): Promise<SyncOutcome> {
    const { config, changes } = options;
    const exec = this.#options.netns ? { netns: this.#options.netns } : {};
    this.#backend ??= await detectBackend(exec);
    const state = buildProxyState(objects, config);
    const partial = kind === 'partial' && this.#applied !== undefined && !changes.node;
    let base: AppliedRules;
    let payload: string;
    if (partial && this.#applied) {
      base = this.#applied;
      payload = renderIptables(state, config, { changedServices: changes.services, currentHairpin: base.hairpin, currentDispatch: base.dispatch, existingChains: base.chains, jumps: [] });
    } else {
      const saved = parseSaved(await saveRules(this.#backend, exec));
      base = appliedFromSaved(saved);
      payload = renderIptables(state, config, { existingChains: saved.chains, jumps: missingJumps(builtinJumps(), saved) });
    }
    await restoreRules(payload, this.#backend, exec);
    this.#applied = applyPayload(base, payload);
    const deletions = staleUdpFlows(this.#lastState, state);
    this.#lastState = state;
    for (const failure of await deleteConntrackFlows(deletions, exec)) this.#options.log.warn(failure);
    const writtenRules = countRules(payload);
    return { state, payload, ...(partial ? {} : { totalRules: writtenRules }), writtenRules, conntrackDeletions: deletions.length };
  }
}
