import type { Changes } from './change-tracker.ts';
import type { ProxyConfig } from './config.ts';
import { deleteConntrackFlows, staleUdpFlows } from './conntrack.ts';
import type { ProxierOptions, SyncOutcome } from './iptables-proxier.ts';
import { applyNft } from './nftables/apply.ts';
import { AppliedParts } from './nftables/applied-parts.ts';
import { updateProxyState } from './nftables/partial-state.ts';
import { countPayloadLines } from './nftables/table.ts';
import type { ClusterObjects } from './objects.ts';
import { buildProxyState, type ProxyState } from './state.ts';

// One sync of the nftables data plane, with the iptables proxier's interface so the daemon's loop
// drives either. A full sync replaces the table atomically; a partial sync applies what changed in
// the changed Services' parts (element lines for endpoint changes). A failed apply changes nothing
// (one transaction) and forgets the record, so the next sync is a full one; so does a Node change
// (node port addresses) or anything a partial sync cannot express.

export class NftablesProxier {
  readonly #options: ProxierOptions;
  #applied: AppliedParts | undefined;
  #lastState: ProxyState | undefined;

  constructor(options: ProxierOptions) {
    this.#options = options;
  }

  get lastState(): ProxyState | undefined {
    return this.#lastState;
  }

  async sync(kind: 'full' | 'partial', objects: ClusterObjects, options: { config: ProxyConfig; changes: Changes }): Promise<SyncOutcome> {
    const { config, changes } = options;
    const exec = this.#options.netns ? { netns: this.#options.netns } : {};
    const previous = this.#applied;
    const lastState = this.#lastState;
    this.#applied = undefined;
    const canPartial = kind === 'partial' && previous !== undefined && lastState !== undefined && !changes.node && previous.sameConfig(config);
    let state = canPartial ? updateProxyState(lastState, objects, { config, changed: changes.services }) : buildProxyState(objects, config);
    const diff = canPartial ? previous.partial(state.servicePorts, changes.services) : undefined;
    let applied = previous;
    let payload = diff;
    if (payload === undefined) {
      if (canPartial) state = buildProxyState(objects, config);
      ({ applied, payload } = AppliedParts.full(state.servicePorts, config));
    }
    await applyNft(payload, exec);
    this.#applied = applied;
    const deletions = staleUdpFlows(lastState, state);
    this.#lastState = state;
    for (const failure of await deleteConntrackFlows(deletions, exec)) this.#options.log.warn(failure);
    // The outcome's counters are per iptables table; nftables has one table, reported as nat.
    const written = { nat: countPayloadLines(payload), filter: 0 };
    return { state, payload, ...(diff === undefined ? { totalRules: written } : {}), writtenRules: written, conntrackDeletions: deletions.length };
  }
}
