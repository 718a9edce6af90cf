import { formatIp, offsetIp, parseIp, type IP } from '../lib/ip.ts';

// The benchmark's cluster, generated: N ClusterIP Services with one TCP port and one EndpointSlice of
// E ready endpoints each, as API objects (the same JSON is posted to the API server and parsed offline).
// Endpoints run on other nodes (PEER_NODES of them), as a node sees most of a large cluster's endpoints.
// ClusterIPs are fixed so both paths program identical addresses; endpoint addresses come from a range
// of their own, large enough for 10,000 x 10 (the pod CIDR /16 is not).

export const BENCH_NAMESPACE = 'default';
export const SERVICE_PORT = 80;
export const TARGET_PORT = 8080;
export const PORT_NAME = 'http';
const base = (text: string): IP => parseIp(text) as IP;
/** Clear of 10.96.0.1 (kubernetes) and of the addresses the API server hands out first. */
const FIRST_CLUSTER_IP = base('10.96.4.0');
/** 10.160.0.0/11: 2M endpoint addresses. */
const FIRST_ENDPOINT_IP = base('10.160.0.0');
/** Addresses given to changed endpoints, clear of the generated ones. */
const FIRST_REPLACEMENT_IP = base('10.192.0.1');
const nth = (first: IP, n: number): string => formatIp(offsetIp(first, BigInt(n)));

export type ApiObject = Record<string, unknown>;

export function serviceName(index: number): string {
  return `bench-${String(index).padStart(5, '0')}`;
}

/** `namespace/name:port`, the key our state and kube-proxy's chain hashes use. */
export function servicePortKey(index: number): string {
  return `${BENCH_NAMESPACE}/${serviceName(index)}:${PORT_NAME}`;
}

export function clusterIP(index: number): string {
  return nth(FIRST_CLUSTER_IP, index);
}

export function endpointIP(index: number, endpoint: number, perService: number): string {
  return nth(FIRST_ENDPOINT_IP, index * perService + endpoint);
}

export function replacementIP(change: number): string {
  return nth(FIRST_REPLACEMENT_IP, change);
}

export function serviceObject(index: number): ApiObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: serviceName(index), namespace: BENCH_NAMESPACE },
    spec: { clusterIP: clusterIP(index), ports: [{ name: PORT_NAME, protocol: 'TCP', port: SERVICE_PORT, targetPort: TARGET_PORT }] },
  };
}

export function sliceObject(index: number, addresses: readonly string[]): ApiObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${serviceName(index)}-0`,
      namespace: BENCH_NAMESPACE,
      labels: { 'kubernetes.io/service-name': serviceName(index), 'endpointslice.kubernetes.io/managed-by': 'weft-bench' },
    },
    addressType: 'IPv4',
    ports: [{ name: PORT_NAME, protocol: 'TCP', port: TARGET_PORT }],
    endpoints: addresses.map((ip, i) => ({ addresses: [ip], conditions: { ready: true }, nodeName: peerNode(index + i) })),
  };
}

export function endpointAddresses(index: number, perService: number): string[] {
  return Array.from({ length: perService }, (_, e) => endpointIP(index, e, perService));
}

/** Services [from, to) and their slices, each Service followed by its slice. */
export function generateObjects(range: { from: number; to: number }, perService: number): ApiObject[] {
  const items: ApiObject[] = [];
  for (let i = range.from; i < range.to; i++) items.push(serviceObject(i), sliceObject(i, endpointAddresses(i, perService)));
  return items;
}

/** The slice of Service `index` with its last endpoint replaced by a new address (one endpoint change). */
export function changedAddresses(index: number, perService: number, change: number): string[] {
  return [...endpointAddresses(index, perService).slice(0, -1), replacementIP(change)];
}

/** The node the proxies serve (its runs add a number); no endpoint runs on it. */
export const BENCH_NODE = 'bench-node';

const PEER_NODES = 100;

export function peerNode(n: number): string {
  return `peer-${String(n % PEER_NODES).padStart(3, '0')}`;
}
