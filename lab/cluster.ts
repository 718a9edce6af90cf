import { createNode, readSubnetVar, startWeftd, type OverlayNode } from './node.ts';
import { addPod, removePod, type Pod } from './pod.ts';
import { createUnderlay, etcdctl, startEtcd, stopEtcd, type LabSettings, type Underlay } from './underlay.ts';
import { waitFor } from './wait.ts';

// A whole namespace cluster in one call (the demo's): underlay + etcd with the network config, N
// nodes running weftd, each node's fabric converged (a route to every other node), M pods per node.
// The owner of settings.scope and settings.workDir removes them afterwards, also after a failure here.

export const ETCD_PREFIX = '/coreos.com/network';

export interface ClusterSpec {
  nodes: number;
  podsPerNode: number;
  /** Underlay /24 as its first three octets, e.g. "172.30.90". */
  net: string;
  /** The flannel-format network config stored at <prefix>/config. */
  network: Readonly<Record<string, unknown>>;
  weftdArgs?: readonly string[];
  /** Called with one line per step while the cluster comes up. */
  onProgress?: (line: string) => void;
}

export interface Cluster {
  underlay: Underlay;
  nodes: OverlayNode[];
  pods: Pod[];
}

function podName(node: OverlayNode, index: number): string {
  return `n${node.index}p${index}`;
}

export async function startCluster(settings: LabSettings, spec: ClusterSpec): Promise<Cluster> {
  const progress = spec.onProgress ?? (() => {});
  const underlay = await createUnderlay(settings, { net: spec.net });
  progress(`underlay namespace ${underlay.ns.name}: bridge br0 ${spec.net}.0/24`);
  await startEtcd(underlay);
  const put = await etcdctl(underlay, ['put', `${ETCD_PREFIX}/config`, JSON.stringify(spec.network)]);
  if (put.code !== 0) throw new Error(`cannot store the network config: ${put.stderr.trim()}`);
  progress(`etcd at ${underlay.etcdUrl}, network config at ${ETCD_PREFIX}/config`);

  const nodes: OverlayNode[] = [];
  for (let index = 1; index <= spec.nodes; index++) nodes.push(await createNode(underlay, index));
  progress(`${nodes.length} node namespaces: ${nodes.map((n) => `${n.ns.name} (${n.ip})`).join(', ')}`);
  for (const node of nodes) startWeftd(node, { args: spec.weftdArgs ?? [], logFile: `${node.dir}/weftd.log`, logLevel: 'info' });
  for (const node of nodes) {
    const exited = node.weftd!.exited.then((r) => Promise.reject(new Error(`weftd on node ${node.index} exited ${r.code}; log in ${node.dir}/weftd.log`)));
    const leased = waitFor(`node ${node.index}'s subnet file`, async () => readSubnetVar(node, 'FLANNEL_SUBNET'), { timeoutMs: 30_000 });
    progress(`node ${node.index}: weftd leased ${await Promise.race([leased, exited])}`);
  }
  for (const node of nodes) {
    await waitFor(`node ${node.index}'s routes to the other nodes`, async () => {
      const routes = await node.ns.exec('ip', ['route', 'show', 'dev', 'weft.1']);
      return routes.trim().split('\n').filter(Boolean).length >= nodes.length - 1;
    }, { timeoutMs: 30_000 });
  }
  progress(`fabric converged: every node routes to the other ${nodes.length - 1} node(s) through weft.1`);

  const pods: Pod[] = [];
  for (const node of nodes) {
    for (let index = 1; index <= spec.podsPerNode; index++) pods.push(await addPod(node, podName(node, index)));
    progress(`node ${node.index}: ${spec.podsPerNode} pod(s) attached through weft-vxlan`);
  }
  return { underlay, nodes, pods };
}

/** Removes the pods as a runtime would (DEL), then stops the daemons and etcd. Returns what failed. */
export async function stopCluster(cluster: Cluster): Promise<string[]> {
  const failures: string[] = [];
  for (const pod of [...cluster.pods].reverse()) await removePod(pod).catch((e: Error) => failures.push(e.message));
  for (const node of cluster.nodes) await node.weftd?.stop('SIGTERM');
  await stopEtcd(cluster.underlay);
  return failures;
}
