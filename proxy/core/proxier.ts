import type { Logger } from '../../lib/log.ts';
import type { Backend, BackendResult, ServiceDiff } from './backend.ts';
import type { ChangeTracker, Changes, ServiceRecords } from './change-tracker.ts';
import type { ProxyConfig } from './config.ts';
import { staleUdpFlows, type ConntrackKernel } from './conntrack.ts';
import { DestinationClaims } from './destinations.ts';
import { healthCheckTarget, type HealthCheckTarget } from './health-check-node-port.ts';
import { serviceState, type ServicePortState, type Skipped } from './state.ts';

// The proxy core's sync: takes the tracker's changes, decides between a full and a partial sync, builds
// the desired state of what it syncs (every Service, or only the changed ones) and hands it to the
// backend. A partial sync needs a previous successful full sync with the same config and no Node
// change, and a backend that can express the change; otherwise the sync is a full one. A failed sync
// hands its changes back to the tracker and makes the next sync a full one. The first full sync that
// succeeds then removes the rules of the other modes: until this mode's rules are in, the earlier
// proxy's keep serving (both DNAT a new connection the same way while they coexist), and the first
// sync's rules are not held back by the cleanup.

export interface ProxierOptions {
  readonly backend: Backend;
  /** The other modes' backends: whatever they left on the node goes after the first full sync. */
  readonly otherModes: readonly Backend[];
  readonly tracker: ChangeTracker;
  readonly conntrack: ConntrackKernel;
  readonly log: Logger;
}

export interface SyncOutcome {
  /** What ran: a partial sync may become a full one. */
  readonly kind: 'full' | 'partial';
  /** Services whose rules were built: all of them, or the changed ones. */
  readonly services: number;
  readonly servicePorts: number;
  readonly result: BackendResult;
  readonly skipped: readonly Skipped[];
  readonly conntrackDeletions: number;
  /** What each healthCheckNodePort answers for, after this sync. */
  readonly healthChecks: ReadonlyMap<number, HealthCheckTarget>;
  /** The changes this sync applied. */
  readonly changes: Changes;
  /** Other modes' rules found and removed. */
  readonly cleanedUp: readonly string[];
  /** Where a full sync's time went: the wanted state, rendering, the kernel, then removing other modes' rules. */
  readonly phasesMs?: Readonly<Record<'state' | 'render' | 'kernel' | 'cleanup', number>>;
}

export class Proxier {
  readonly #options: ProxierOptions;
  /** The config of the last successful sync; undefined when the next one must be full. */
  #applied: string | undefined;
  #synced = false;
  #otherModesCleaned = false;
  #claims = new DestinationClaims();
  #healthChecks = new Map<string, [number, HealthCheckTarget]>();

  constructor(options: ProxierOptions) {
    this.#options = options;
  }

  async sync(kind: 'full' | 'partial', config: ProxyConfig): Promise<SyncOutcome> {
    const changes = this.#options.tracker.takeChanges();
    try {
      const partial = kind === 'partial' && this.#applied === JSON.stringify(config) && !changes.node ? await this.#partial(changes, config) : undefined;
      return partial ?? (await this.#full(changes, config));
    } catch (error) {
      this.#applied = undefined;
      this.#options.tracker.giveBack(changes);
      throw error;
    }
  }

  /** The ports of a Service as the kernel holds them: built from its records, less the ports that lost a destination. */
  #heldPorts(records: ServiceRecords, config: ProxyConfig): ServicePortState[] {
    return serviceState(records.service, records.slices, config.hostname).servicePorts.filter((sp) => this.#claims.holds(sp));
  }

  #trackHealthCheck(service: string, records: ServiceRecords, ports: readonly ServicePortState[]): void {
    const target = healthCheckTarget(records.service, ports);
    if (target) this.#healthChecks.set(service, target);
    else this.#healthChecks.delete(service);
  }

  async #partial(changes: Changes, config: ProxyConfig): Promise<SyncOutcome | undefined> {
    const diffs: ServiceDiff[] = [];
    const skipped: Skipped[] = [];
    let waited = false;
    for (const [service, change] of changes.services) {
      const before = this.#heldPorts(change.before, config);
      waited = this.#claims.release(before) || waited;
      const wanted = serviceState(change.after.service, change.after.slices, config.hostname);
      const after = this.#claims.claim(wanted.servicePorts);
      skipped.push(...wanted.skipped, ...after.skipped);
      diffs.push({ service, before, after: after.servicePorts });
      this.#trackHealthCheck(service, change.after, after.servicePorts);
    }
    // A destination changed hands: the port that waited for it is not among the changes.
    if (waited) return undefined;
    const result = await this.#options.backend.partialSync(diffs, config);
    if (result === undefined) return undefined;
    return this.#finish({ kind: 'partial', services: diffs.length, servicePorts: diffs.reduce((n, d) => n + d.after.length, 0), result, skipped, changes, cleanedUp: [] }, diffs, config);
  }

  async #full(changes: Changes, config: ProxyConfig): Promise<SyncOutcome> {
    // Conntrack entries are compared against what the kernel held; before the first sync nothing is known.
    const before = new Map(this.#synced ? [...changes.services].map(([service, change]) => [service, this.#heldPorts(change.before, config)]) : []);
    const building = performance.now();
    this.#claims = new DestinationClaims();
    this.#healthChecks = new Map();
    const all: ServicePortState[] = [];
    const skipped: Skipped[] = [];
    const diffs: ServiceDiff[] = [];
    let services = 0;
    for (const [service, records] of this.#options.tracker.allServices()) {
      services += 1;
      const wanted = serviceState(records.service, records.slices, config.hostname);
      const claimed = this.#claims.claim(wanted.servicePorts);
      all.push(...claimed.servicePorts);
      skipped.push(...wanted.skipped, ...claimed.skipped);
      this.#trackHealthCheck(service, records, claimed.servicePorts);
      const was = before.get(service);
      if (was) diffs.push({ service, before: was, after: claimed.servicePorts });
    }
    // Changed Services that are gone: their flows still need deleting.
    for (const [service, was] of before) if (!this.#options.tracker.records(service).service) diffs.push({ service, before: was, after: [] });
    const applying = performance.now();
    const result = await this.#options.backend.fullSync(all, config);
    const cleaning = performance.now();
    const cleanedUp = await this.#cleanOtherModes();
    const kernel = result.kernelMs ?? 0;
    const round = (ms: number) => Math.round(ms * 10) / 10;
    const phasesMs = { state: round(applying - building), render: round(Math.max(0, cleaning - applying - kernel)), kernel: round(kernel), cleanup: round(performance.now() - cleaning) };
    return this.#finish({ kind: 'full', services, servicePorts: all.length, result, skipped, changes, cleanedUp, phasesMs }, diffs, config);
  }

  async #cleanOtherModes(): Promise<string[]> {
    if (this.#otherModesCleaned) return [];
    const cleaned: string[] = [];
    for (const other of this.#options.otherModes) {
      try {
        if (await other.cleanup()) cleaned.push(other.mode);
      } catch (error) {
        // A node without that mode's tools has nothing of it to remove; the sync goes on either way.
        this.#options.log.warn(`cannot remove the ${other.mode} rules of an earlier proxy`, { error });
      }
    }
    this.#otherModesCleaned = true;
    return cleaned;
  }

  async #finish(outcome: Omit<SyncOutcome, 'conntrackDeletions' | 'healthChecks'>, diffs: readonly ServiceDiff[], config: ProxyConfig): Promise<SyncOutcome> {
    this.#applied = JSON.stringify(config);
    this.#synced = true;
    const deletions = diffs.flatMap((d) => staleUdpFlows(d.before, d.after));
    for (const failure of await this.#options.conntrack.deleteFlows(deletions)) this.#options.log.warn(failure);
    return { ...outcome, conntrackDeletions: deletions.length, healthChecks: new Map(this.#healthChecks.values()) };
  }
}
