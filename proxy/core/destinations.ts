import type { ProxyState, ServicePortState, Skipped } from './state.ts';

// One destination (an address, protocol and port; or a protocol and node port) leads to one Service
// port. The API server's allocators keep ClusterIPs and node ports unique, but external and
// load-balancer IPs are written by users and may repeat another Service's destination. The first
// port to claim a destination keeps it; a later one is skipped with the owner named, and waits: when
// the owner lets go, the proxy needs a full sync to give the destination to the waiting port. With
// unique destinations, each backend can add and delete a port's entries without counting owners.

function destinations(sp: ServicePortState): string[] {
  const ips = [sp.clusterIP, ...sp.externalIPs, ...sp.loadBalancerIPs].map((ip) => `${sp.protocol} ${ip}:${sp.port}`);
  const all = sp.nodePort === undefined ? ips : [...ips, `${sp.protocol} node port ${sp.nodePort}`];
  return [...new Set(all)];
}

function owner(sp: ServicePortState): string {
  return `${sp.key}/${sp.protocol}`;
}

export class DestinationClaims {
  /** Destination -> the port holding it (`key/protocol`). */
  readonly #owners = new Map<string, string>();
  /** Destinations some skipped port is waiting for. */
  readonly #wanted = new Set<string>();

  /** The ports whose destinations are free or already theirs; the others are skipped. */
  claim(ports: readonly ServicePortState[]): ProxyState {
    const servicePorts: ServicePortState[] = [];
    const skipped: Skipped[] = [];
    for (const sp of ports) {
      const mine = owner(sp);
      const dests = destinations(sp);
      const taken = dests.find((d) => (this.#owners.get(d) ?? mine) !== mine);
      if (taken !== undefined) {
        this.#wanted.add(taken);
        skipped.push({ service: sp.key, reason: `destination "${taken}" is already served by "${(this.#owners.get(taken) as string).replace(/\/(tcp|udp)$/, '')}"` });
        continue;
      }
      for (const d of dests) this.#owners.set(d, mine);
      servicePorts.push(sp);
    }
    return { servicePorts, skipped };
  }

  /** Whether `sp` holds all of its destinations (it was not skipped when it was claimed). */
  holds(sp: ServicePortState): boolean {
    const mine = owner(sp);
    return destinations(sp).every((d) => this.#owners.get(d) === mine);
  }

  /** Lets go of what `ports` held; true when a skipped port waits for one of those destinations. */
  release(ports: readonly ServicePortState[]): boolean {
    let waited = false;
    for (const sp of ports) {
      const mine = owner(sp);
      for (const d of destinations(sp)) {
        if (this.#owners.get(d) !== mine) continue;
        this.#owners.delete(d);
        if (this.#wanted.delete(d)) waited = true;
      }
    }
    return waited;
  }
}
