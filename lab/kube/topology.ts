import { join } from 'node:path';

// The shape of a lab cluster, decided before anything is created: the Kubernetes names (as kind names a
// cluster's nodes), the machine-level names that carry the lab's id (network namespaces, cgroups, the
// underlay), addresses, and where each node's state lives. Pure: cluster:up, cluster:down and the tests
// all derive the same names from the same inputs.

/** kind's node naming: "<cluster>-control-plane", "<cluster>-worker", "<cluster>-worker2", ... */
export const CLUSTER_NAME = 'weft';
/** The default lab id: prefixes every namespace and cgroup, and names the kubeconfig context. */
export const DEFAULT_LAB_ID = 'weft-lab';
/** The underlay: a /24 only the lab's namespaces use (kind's Docker network is 172.18.0.0/16 too). */
export const UNDERLAY_NET = '172.18.0';
export const UNDERLAY_GATEWAY = `${UNDERLAY_NET}.1`;
export const API_SERVER_PORT = 6443;
export const MAX_WORKERS = 8;

const LAB_ID = /^[a-z][a-z0-9-]{0,15}$/;

export type NodeRole = 'control-plane' | 'worker';

export interface NodePlan {
  /** The Node's name, hostname and kubelet --hostname-override. */
  name: string;
  role: NodeRole;
  /** Underlay address, the Node's InternalIP. */
  ip: string;
  /** Named network namespace (/var/run/netns/<netns>). */
  netns: string;
  /** The veth end in the underlay namespace (the lab's own), plugged into its bridge. */
  uplink: string;
  /** cgroup below every v1 hierarchy (and the unified one) holding everything the node runs: its cgroupRoot. */
  cgroup: string;
  /** The node's own files: what a kind node container keeps in its filesystem. */
  dir: string;
}

export interface LabTopology {
  id: string;
  stateDir: string;
  underlayNetns: string;
  nodes: NodePlan[];
  controlPlane: NodePlan;
}

export function checkLabId(id: string): string {
  if (!LAB_ID.test(id)) throw new Error(`cannot name the lab: id "${id}" is not 1-16 of [a-z0-9-] starting with a letter`);
  return id;
}

/** kind's name for worker n (1-based): "weft-worker", "weft-worker2", ... */
export function workerName(n: number): string {
  return `${CLUSTER_NAME}-worker${n === 1 ? '' : n}`;
}

export function planTopology(options: { id: string; workers: number; stateDir: string }): LabTopology {
  const id = checkLabId(options.id);
  if (!Number.isInteger(options.workers) || options.workers < 0 || options.workers > MAX_WORKERS) {
    throw new Error(`cannot plan the lab: --workers "${options.workers}" is not an integer in 0..${MAX_WORKERS}`);
  }
  const node = (index: number, role: NodeRole, name: string, short: string): NodePlan => ({
    name,
    role,
    ip: `${UNDERLAY_NET}.${index + 2}`,
    netns: `${id}-${short}`,
    uplink: `v${index}`,
    cgroup: `${id}-${short}`,
    dir: join(options.stateDir, 'nodes', name),
  });
  const nodes = [node(0, 'control-plane', `${CLUSTER_NAME}-control-plane`, 'cp')];
  for (let n = 1; n <= options.workers; n++) nodes.push(node(n, 'worker', workerName(n), `w${n}`));
  return { id, stateDir: options.stateDir, underlayNetns: `${id}-net`, nodes, controlPlane: nodes[0] as NodePlan };
}

/** What every node's /etc/hosts holds: each node by name, as Docker's DNS resolves kind's node containers. */
export function renderHosts(topology: LabTopology): string {
  return ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback', ...topology.nodes.map((n) => `${n.ip} ${n.name}`), ''].join('\n');
}

/**
 * A node's /etc/resolv.conf. The lab has no upstream DNS: the nameserver is the underlay gateway, where
 * nothing answers, and there is no search list, so cluster names never get the machine's domains appended
 * (what kind avoids with its own resolv.conf).
 */
export function renderNodeResolvConf(): string {
  return `nameserver ${UNDERLAY_GATEWAY}\noptions ndots:1 timeout:1 attempts:1\n`;
}
