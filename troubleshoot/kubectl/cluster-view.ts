import { isObject } from '../../lib/json.ts';

// What the kubectl plugin reads from the cluster, reduced from `kubectl get -o json` lists: Nodes with
// their InternalIP, and the weft-node Pod serving each Node (label app.kubernetes.io/component=node in
// weft-system, the DaemonSet deploy/30-weft-node.yaml makes).

export const WEFT_NAMESPACE = 'weft-system';
export const NODE_POD_SELECTOR = 'app.kubernetes.io/component=node';
export const NODE_POD_CONTAINER = 'weftd';
export const WEFT_IN_POD = '/opt/weft/bin/weft';

export interface ClusterNode {
  readonly name: string;
  readonly internalIp?: string;
}

function items(list: unknown): Record<string, unknown>[] {
  return isObject(list) && Array.isArray(list.items) ? list.items.filter(isObject) : [];
}

function field(o: Record<string, unknown>, ...path: string[]): unknown {
  let value: unknown = o;
  for (const key of path) value = isObject(value) ? value[key] : undefined;
  return value;
}

export function parseNodes(list: unknown): ClusterNode[] {
  return items(list).map((node) => {
    const addresses = field(node, 'status', 'addresses');
    const internal = Array.isArray(addresses) ? addresses.filter(isObject).find((a) => a.type === 'InternalIP') : undefined;
    return { name: String(field(node, 'metadata', 'name')), ...(typeof internal?.address === 'string' ? { internalIp: internal.address } : {}) };
  });
}

/** The Running weft-node Pod per Node name (the newest when a rollout leaves two). */
export function nodePods(list: unknown): Map<string, string> {
  const byNode = new Map<string, { name: string; created: string }>();
  for (const pod of items(list)) {
    const node = field(pod, 'spec', 'nodeName');
    const name = field(pod, 'metadata', 'name');
    const created = String(field(pod, 'metadata', 'creationTimestamp') ?? '');
    if (typeof node !== 'string' || typeof name !== 'string' || field(pod, 'status', 'phase') !== 'Running' || field(pod, 'metadata', 'deletionTimestamp')) continue;
    const seen = byNode.get(node);
    if (!seen || created > seen.created) byNode.set(node, { name, created });
  }
  return new Map([...byNode].map(([node, pod]) => [node, pod.name]));
}

/** The Node a Pod with this IP runs on (host-network Pods excluded: their IP is the Node's). */
export function nodeOfPodIp(list: unknown, ip: string): string | undefined {
  const pod = items(list).find((p) => field(p, 'status', 'podIP') === ip && field(p, 'spec', 'hostNetwork') !== true);
  const node = pod ? field(pod, 'spec', 'nodeName') : undefined;
  return typeof node === 'string' ? node : undefined;
}
