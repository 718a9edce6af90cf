import type { Changes } from './change-tracker.ts';
import type { ProxyConfig } from './config.ts';
import { deleteConntrackFlows, staleUdpFlows } from './conntrack.ts';
import type { ProxierOptions, SyncOutcome } from './iptables-proxier.ts';
import { applyNft } from './nftables/apply.ts';
import { buildNftTable } from './nftables/render.ts';
import { countPayloadLines, renderFullSync, renderTableDiff, type NftTable } from './nftables/table.ts';
import type { ClusterObjects } from './objects.ts';
import { buildProxyState, type ProxyState } from './state.ts';

// One sync of the nftables data plane, with the iptables proxier's interface so the daemon's loop
// drives either. A full sync replaces the table atomically; a partial sync applies the difference
// from the table this process applied last (element lines for endpoint changes). The whole table is
// rebuilt in memory each time (pure, ~100 ms at 10k Services) rather than per changed Service: the
// diff then cannot drift from what a full sync would write. A failed apply changes nothing (one
// transaction) and forgets the record, so the next sync is a full one.

export class NftablesProxier {
  readonly #options: ProxierOptions;
  #applied: NftTable | undefined;
  #lastState: ProxyState | undefined;

  constructor(options: ProxierOptions) {
    this.#options = options;
  }

  get lastState(): ProxyState | undefined {
    return this.#lastState;
  }

  async sync(kind: 'full' | 'partial', objects: ClusterObjects, options: { config: ProxyConfig; changes: Changes }): Promise<SyncOutcome> {
    const exec = this.#options.netns ? { netns: this.#options.netns } : {};
    const state = buildProxyState(objects, options.config);
    const table = buildNftTable(state, options.config);
    const diff = kind === 'partial' && this.#applied ? renderTableDiff(this.#applied, table) : undefined;
    const payload = diff ?? renderFullSync(table);
    this.#applied = undefined;
    await applyNft(payload, exec);
    this.#applied = table;
    const deletions = staleUdpFlows(this.#lastState, state);
    this.#lastState = state;
    for (const failure of await deleteConntrackFlows(deletions, exec)) this.#options.log.warn(failure);
    // The outcome's counters are per table in iptables; nftables has one table, reported as nat.
    const written = { nat: countPayloadLines(payload), filter: 0 };
    return { state, payload, ...(diff === undefined ? { totalRules: written } : {}), writtenRules: written, conntrackDeletions: deletions.length };
  }
}
