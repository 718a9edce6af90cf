import { run } from '../../lib/exec.ts';
import type { ServicePortState } from './state.ts';

// UDP has no connection to end: a client reusing its source port keeps hitting the conntrack entry that
// DNATs it to an endpoint that is gone (stale DNS answers). After a sync, the entries whose reply
// source is an endpoint that no longer serves the Service port are deleted, and when a UDP port gains
// its first endpoint, the entries that recorded "no endpoint" are deleted too. A pure diff of one
// Service's ports before and after a sync; the deletions go through an injected kernel interface.

/** One `conntrack -D` argument list. */
export type ConntrackDeletion = readonly string[];

function udpPorts(ports: readonly ServicePortState[]): Map<string, ServicePortState> {
  return new Map(ports.filter((sp) => sp.protocol === 'udp').map((sp) => [sp.key, sp]));
}

function serving(sp: ServicePortState | undefined): Set<string> {
  return new Set([...(sp?.clusterEndpoints ?? []), ...(sp?.localEndpoints ?? [])].map((e) => `${e.ip}:${e.port}`));
}

function destinations(sp: ServicePortState): string[] {
  return [sp.clusterIP, ...sp.externalIPs, ...sp.loadBalancerIPs];
}

export function staleUdpFlows(before: readonly ServicePortState[], after: readonly ServicePortState[]): ConntrackDeletion[] {
  const old = udpPorts(before);
  const now = udpPorts(after);
  const deletions: ConntrackDeletion[] = [];
  for (const [key, previous] of old) {
    const current = now.get(key);
    const still = serving(current);
    for (const endpoint of [...serving(previous)].filter((e) => !still.has(e))) {
      const ip = endpoint.slice(0, endpoint.lastIndexOf(':'));
      for (const dst of destinations(previous)) deletions.push(['-D', '-p', 'udp', '--orig-dst', dst, '--orig-port-dst', String(previous.port), '--reply-src', ip]);
      if (previous.nodePort !== undefined) deletions.push(['-D', '-p', 'udp', '--orig-port-dst', String(previous.nodePort), '--reply-src', ip]);
    }
  }
  for (const [key, current] of now) {
    if (serving(old.get(key)).size > 0 || serving(current).size === 0) continue;
    for (const dst of destinations(current)) deletions.push(['-D', '-p', 'udp', '--orig-dst', dst, '--orig-port-dst', String(current.port)]);
  }
  return deletions;
}

/** Where conntrack entries are deleted: the node's kernel, or a recording fake in unit tests. */
export interface ConntrackKernel {
  /** Runs the deletions; returns a message per failure ("0 flow entries" is success). */
  deleteFlows(deletions: readonly ConntrackDeletion[]): Promise<string[]>;
}

/** `conntrack -D` in the node's network namespace (or `netns`, for tests). */
export function conntrackKernel(options: { netns?: string } = {}): ConntrackKernel {
  return {
    async deleteFlows(deletions) {
      const failures: string[] = [];
      for (const args of deletions) {
        const result = await run('conntrack', args, options);
        if (result.code !== 0 && !/0 flow entries/.test(result.stderr)) failures.push(`cannot delete conntrack entries "conntrack ${args.join(' ')}": ${result.stderr.trim()}`);
      }
      return failures;
    },
  };
}
