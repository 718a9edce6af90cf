import { parseIpv4 } from '../lib/ip.ts';
import { HEADLESS_LABEL, type EndpointSlice, type Service, type ServicePort } from './objects.ts';

// Which endpoints a Service port sends traffic to, as kube-proxy chooses them: ready endpoints, or
// when none is ready the serving+terminating ones (so a rolling update does not drop connections);
// "local" is the same choice restricted to this node, for the Local traffic policies.

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

export interface EndpointChoice {
  readonly cluster: readonly Endpoint[];
  readonly local: readonly Endpoint[];
}

interface Candidate extends Endpoint {
  readonly ready: boolean;
  readonly servingTerminating: boolean;
  readonly isLocal: boolean;
}

/** Slices that carry endpoints for this Service; headless-labelled and non-IPv4 slices are ignored. */
export function slicesOfService(service: Service, slices: readonly EndpointSlice[]): EndpointSlice[] {
  return slices.filter(
    (s) => s.namespace === service.namespace && s.serviceName === service.name && s.addressType === 'IPv4' && !(HEADLESS_LABEL in s.labels),
  );
}

function choose(candidates: readonly Candidate[]): Endpoint[] {
  const ready = candidates.filter((c) => c.ready);
  const chosen = ready.length > 0 ? ready : candidates.filter((c) => c.servingTerminating);
  return chosen.map(({ ip, port }) => ({ ip, port }));
}

export function selectEndpoints(port: ServicePort, slices: readonly EndpointSlice[], hostname: string): EndpointChoice {
  const byAddress = new Map<string, Candidate>();
  for (const slice of slices) {
    const slicePort = slice.ports.find((p) => p.name === port.name && p.protocol === port.protocol);
    if (!slicePort) continue;
    for (const e of slice.endpoints) {
      // The API defines only the first address as the endpoint's; the same endpoint may sit in two
      // slices while the controller moves it, and the first one seen is kept.
      const ip = e.addresses[0];
      const key = `${ip}:${slicePort.port}`;
      if (ip === undefined || byAddress.has(key)) continue;
      byAddress.set(key, { ip, port: slicePort.port, ready: e.ready, servingTerminating: e.serving && e.terminating, isLocal: e.nodeName === hostname });
    }
  }
  // Addresses were validated as IPv4 when the slice was read; each is parsed once, not per comparison.
  const all = [...byAddress.values()]
    .map((c) => ({ c, key: parseIpv4(c.ip) ?? 0 }))
    .sort((a, b) => a.key - b.key || a.c.port - b.c.port)
    .map(({ c }) => c);
  return { cluster: choose(all), local: choose(all.filter((c) => c.isLocal)) };
}
