import type { ProxyConfig } from '../../../proxy/core/config.ts';
import type { ServicePortState } from '../../../proxy/core/state.ts';

// Shared inputs for the proxy's unit tests: one node (10.0.0.5), pods in 10.180.0.0/16.

export const CONFIG: ProxyConfig = { hostname: 'node-1', clusterCidr: '10.180.0.0/16', masqueradeMark: 0x4000, nodePortAddresses: [] };
export const NODE_IP = '10.0.0.5';
export const LOCAL = { localAddresses: [NODE_IP] };

export const EP1 = { ip: '10.180.0.1', port: 8080 };
export const EP2 = { ip: '10.180.0.2', port: 8080 };
export const EP3 = { ip: '10.180.1.3', port: 8080 };

/** ns1/web:http on 172.30.0.41:80/tcp, endpoints 10.180.0.1 (local) and 10.180.0.2 (remote). */
export function servicePort(overrides: Partial<ServicePortState> = {}): ServicePortState {
  return {
    key: 'ns1/web:http',
    service: 'ns1/web',
    protocol: 'tcp',
    clusterIP: '172.30.0.41',
    port: 80,
    externalIPs: [],
    loadBalancerIPs: [],
    loadBalancerSourceRanges: [],
    externalTrafficLocal: false,
    internalTrafficLocal: false,
    clusterEndpoints: [EP1, EP2],
    localEndpoints: [EP1],
    ...overrides,
  };
}
