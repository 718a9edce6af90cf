import type { ProxyConfig } from './config.ts';
import { DestinationClaims } from './destinations.ts';
import { selectEndpoints, type Endpoint } from './endpoints.ts';
import type { ClusterObjects, EndpointSlice, Service, ServicePort } from './objects.ts';

// The desired state: one entry per Service port that needs rules, with its destinations and the
// endpoints it may use. Everything the renderers need is here; they never look at API objects. It is
// built per Service, so a partial sync builds only the changed Services' entries.

/** The Service-wide fields every one of its ports' entries carries as they are. */
type ServiceWide = Pick<Service, 'externalIPs' | 'loadBalancerIPs' | 'loadBalancerSourceRanges' | 'affinitySeconds' | 'externalTrafficLocal' | 'internalTrafficLocal'>;

export interface ServicePortState extends ServiceWide {
  /** `namespace/name:port` (port name, or number when unnamed): comments carry it, chain names hash it. */
  readonly key: string;
  /** `namespace/name` of the Service: the unit of change for partial syncs. */
  readonly service: string;
  readonly protocol: 'tcp' | 'udp';
  readonly clusterIP: string;
  readonly port: number;
  readonly nodePort?: number;
  readonly clusterEndpoints: readonly Endpoint[];
  readonly localEndpoints: readonly Endpoint[];
}

export interface Skipped {
  /** The Service port's key. */
  readonly service: string;
  readonly reason: string;
}

/** The entries of one Service, or of all of them. */
export interface ProxyState {
  readonly servicePorts: readonly ServicePortState[];
  /** Service ports left without rules for a reason an operator should see in the logs. */
  readonly skipped: readonly Skipped[];
}

const NONE: readonly string[] = Object.freeze([]);

export function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function servicePortKey(service: Service, port: ServicePort): string {
  return `${service.namespace}/${service.name}:${port.name || port.port}`;
}

function hasProxyRules(service: Service): boolean {
  return service.type !== 'ExternalName' && service.clusterIP !== undefined && service.clusterIP !== 'None';
}

/** The entries of one Service (none when it is absent or needs no rules), from its record and its slices. */
export function serviceState(service: Service | undefined, slices: readonly EndpointSlice[], hostname: string): ProxyState {
  if (service === undefined || !hasProxyRules(service)) return { servicePorts: [], skipped: [] };
  const servicePorts: ServicePortState[] = [];
  const skipped: Skipped[] = [];
  const external = service.type === 'NodePort' || service.type === 'LoadBalancer';
  const loadBalancer = service.type === 'LoadBalancer';
  for (const port of service.ports) {
    const key = servicePortKey(service, port);
    if (port.protocol === 'SCTP') {
      skipped.push({ service: key, reason: 'SCTP is not supported by this kernel' });
      continue;
    }
    const endpoints = selectEndpoints(port, slices, hostname);
    servicePorts.push({
      key,
      service: serviceKey(service.namespace, service.name),
      protocol: port.protocol === 'TCP' ? 'tcp' : 'udp',
      clusterIP: service.clusterIP as string,
      port: port.port,
      ...(external && port.nodePort ? { nodePort: port.nodePort } : {}),
      externalIPs: service.externalIPs,
      loadBalancerIPs: loadBalancer ? service.loadBalancerIPs : NONE,
      loadBalancerSourceRanges: loadBalancer ? service.loadBalancerSourceRanges : NONE,
      ...(service.affinitySeconds !== undefined ? { affinitySeconds: service.affinitySeconds } : {}),
      externalTrafficLocal: service.externalTrafficLocal,
      internalTrafficLocal: service.internalTrafficLocal,
      clusterEndpoints: endpoints.cluster,
      localEndpoints: endpoints.local,
    });
  }
  return { servicePorts, skipped };
}

function compareKeys(a: ServicePortState, b: ServicePortState): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : a.protocol < b.protocol ? -1 : 1;
}

/** The whole state for a set of objects (`weft-proxy render`), in key order; a destination goes to the first port in that order. */
export function buildProxyState(objects: ClusterObjects, config: ProxyConfig): ProxyState {
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const slice of objects.endpointSlices) {
    if (slice.serviceName === undefined) continue;
    const key = serviceKey(slice.namespace, slice.serviceName);
    const group = slicesByService.get(key);
    if (group) group.push(slice);
    else slicesByService.set(key, [slice]);
  }
  const claims = new DestinationClaims();
  const servicePorts: ServicePortState[] = [];
  const skipped: Skipped[] = [];
  const named = objects.services.map((s) => ({ key: serviceKey(s.namespace, s.name), service: s }));
  named.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { service } of named) {
    const state = serviceState(service, slicesByService.get(serviceKey(service.namespace, service.name)) ?? [], config.hostname);
    const claimed = claims.claim(state.servicePorts);
    servicePorts.push(...claimed.servicePorts);
    skipped.push(...state.skipped, ...claimed.skipped);
  }
  return { servicePorts: servicePorts.sort(compareKeys), skipped };
}
