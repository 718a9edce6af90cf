import { ipv4CidrContains, formatIpv4Cidr, parseIpv4Cidr, type Ipv4Cidr } from '../../lib/ip.ts';
import { leaseFromRecord, leaseId, leaseRecord, type Lease } from './lease.ts';

// With --kube-subnet-mgr a lease is a Node: its subnet is spec.podCIDR (allocated by the controller
// manager), its backend data sits in annotations weftd writes on its own Node. The values follow
// flannel's annotations, under weft's own prefix only: writing flannel.alpha.coreos.com/* would make
// a flanneld left on any node treat our Nodes as its leases (and overwrite them with its own data),
// so the two agents could fight over one key; interop with flannel stays on the etcd path.

export const ANNOTATION_PREFIX = 'weft.dev/';
export const ANNOTATIONS = {
  backendType: `${ANNOTATION_PREFIX}backend-type`,
  backendData: `${ANNOTATION_PREFIX}backend-data`,
  publicIp: `${ANNOTATION_PREFIX}public-ip`,
  kubeSubnetManager: `${ANNOTATION_PREFIX}kube-subnet-manager`,
} as const;

/** The parts of a v1.Node read here (structural, so this module needs no Kubernetes client). */
export interface NodeLike {
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: { podCIDR?: string; podCIDRs?: string[] };
}

/** The Node's IPv4 pod subnet: spec.podCIDRs lists one per family (dual-stack), spec.podCIDR only the first. */
export function nodePodCidr(node: NodeLike): Ipv4Cidr | undefined {
  const candidates = node.spec?.podCIDRs?.length ? node.spec.podCIDRs : [node.spec?.podCIDR ?? ''];
  for (const text of candidates) {
    const cidr = parseIpv4Cidr(text, { strict: true });
    if (cidr) return cidr;
  }
  return undefined;
}

/** The lease a Node stands for; undefined until it has a pod subnet and usable vxlan annotations. */
export function nodeLease(node: NodeLike): Lease | undefined {
  const subnet = nodePodCidr(node);
  const annotations = node.metadata?.annotations ?? {};
  const data = annotations[ANNOTATIONS.backendData];
  if (!subnet || data === undefined) return undefined;
  let backendData: unknown;
  try {
    backendData = JSON.parse(data);
  } catch {
    return undefined;
  }
  return leaseFromRecord(subnet, { PublicIP: annotations[ANNOTATIONS.publicIp], BackendType: annotations[ANNOTATIONS.backendType], BackendData: backendData });
}

/**
 * Every Node's lease by subnet, leaving out Nodes whose subnet lies outside the overlay's network
 * (another pool's nodes: no route of ours may point at them).
 */
export function leasesFromNodes(nodes: Iterable<NodeLike>, network: Ipv4Cidr): Map<string, Lease> {
  const leases = new Map<string, Lease>();
  for (const node of nodes) {
    const lease = nodeLease(node);
    if (lease && !podCidrProblem(lease.subnet, network)) leases.set(leaseId(lease), lease);
  }
  return leases;
}

export function renderLeaseAnnotations(lease: Lease): Record<string, string> {
  const record = leaseRecord(lease);
  return {
    [ANNOTATIONS.backendType]: record.BackendType,
    [ANNOTATIONS.backendData]: JSON.stringify(record.BackendData),
    [ANNOTATIONS.publicIp]: record.PublicIP,
    [ANNOTATIONS.kubeSubnetManager]: 'true',
  };
}

/**
 * The JSON merge patch (for nodes/status) that publishes `lease` on the Node, or undefined when the
 * Node already carries exactly these values, so a restart does not write (nor wake every watcher).
 */
export function renderAnnotationPatch(node: NodeLike, lease: Lease): { metadata: { annotations: Record<string, string> } } | undefined {
  const wanted = renderLeaseAnnotations(lease);
  const current = node.metadata?.annotations ?? {};
  const changed = Object.entries(wanted).filter(([key, value]) => current[key] !== value);
  return changed.length ? { metadata: { annotations: Object.fromEntries(changed) } } : undefined;
}

/** Why this Node's pod subnet cannot carry the overlay, or undefined when it can. */
export function podCidrProblem(subnet: Ipv4Cidr, network: Ipv4Cidr): string | undefined {
  if (!ipv4CidrContains(network, subnet.network) || subnet.prefix < network.prefix) return `the Node's podCIDR "${formatIpv4Cidr(subnet)}" is outside the network "${formatIpv4Cidr(network)}"`;
  return undefined;
}
