import type { ProxyConfig } from './config.ts';
import { selectEndpoints, slicesOfService, type Endpoint } from './endpoints.ts';
import { SERVICE_PROXY_NAME_LABEL, type ClusterObjects, type Service, type ServicePort } from './objects.ts';

// The desired state: one entry per Service port that needs rules, with its destinations and the
// endpoints it may use. Everything the renderers need is here; they never look at API objects.

export interface ServicePortState {
  /** `namespace/name:port` (port name, or number when unnamed): comments carry it, chain names hash it. */
  readonly key: string;
  /** `namespace/name` of the Service: the unit of change for partial syncs. */
  readonly service: string;
  readonly protocol: 'tcp' | 'udp';
  readonly clusterIP: string;
  readonly port: number;
  readonly nodePort?: number;
  readonly externalIPs: readonly string[];
  readonly loadBalancerIPs: readonly string[];
  readonly loadBalancerSourceRanges: readonly string[];
  readonly affinitySeconds?: number;
  readonly externalTrafficLocal: boolean;
  readonly internalTrafficLocal: boolean;
  readonly clusterEndpoints: readonly Endpoint[];
  readonly localEndpoints: readonly Endpoint[];
}

export interface Skipped {
  readonly service: string;
  readonly reason: string;
}

export interface ProxyState {
  readonly servicePorts: readonly ServicePortState[];
  /** Services or ports left without rules for a reason an operator should see in the logs. */
  readonly skipped: readonly Skipped[];
}

function servicePortKey(service: Service, port: ServicePort): string {
  return `${service.namespace}/${service.name}:${port.name || port.port}`;
}

function hasProxyRules(service: Service): boolean {
  return (
    service.type !== 'ExternalName' &&
    service.clusterIP !== undefined &&
    service.clusterIP !== 'None' &&
    !(SERVICE_PROXY_NAME_LABEL in service.labels)
  );
}

export function buildProxyState(objects: ClusterObjects, config: ProxyConfig): ProxyState {
  const servicePorts: ServicePortState[] = [];
  const skipped: Skipped[] = [];
  for (const service of objects.services) {
    if (!hasProxyRules(service)) continue;
    const slices = slicesOfService(service, objects.endpointSlices);
    for (const port of service.ports) {
      const key = servicePortKey(service, port);
      if (port.protocol === 'SCTP') {
        skipped.push({ service: key, reason: 'SCTP is not supported by this kernel' });
        continue;
      }
      const endpoints = selectEndpoints(port, slices, config.hostname);
      const external = service.type === 'NodePort' || service.type === 'LoadBalancer';
      servicePorts.push({
        key,
        service: `${service.namespace}/${service.name}`,
        protocol: port.protocol === 'TCP' ? 'tcp' : 'udp',
        clusterIP: service.clusterIP as string,
        port: port.port,
        ...(external && port.nodePort ? { nodePort: port.nodePort } : {}),
        externalIPs: service.externalIPs,
        loadBalancerIPs: service.type === 'LoadBalancer' ? service.loadBalancerIPs : [],
        loadBalancerSourceRanges: service.type === 'LoadBalancer' ? service.loadBalancerSourceRanges : [],
        ...(service.affinitySeconds !== undefined ? { affinitySeconds: service.affinitySeconds } : {}),
        externalTrafficLocal: service.externalTrafficLocal,
        internalTrafficLocal: service.internalTrafficLocal,
        clusterEndpoints: endpoints.cluster,
        localEndpoints: endpoints.local,
      });
    }
  }
  servicePorts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.protocol < b.protocol ? -1 : 1));
  return { servicePorts, skipped };
}
