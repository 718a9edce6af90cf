import { join } from 'node:path';
import { callCni } from './cni-call.ts';
import type { Netns } from './netns.ts';
import type { OverlayNode } from './node.ts';

// Pods on a lab node, attached as containerd attaches them: the node's network config list
// (weft-vxlan, which delegates to a bridge + host-local over the node's subnet), one plugin process
// per call inside the node's namespace, ADD in list order with prevResult, DEL in reverse order.

export interface NetworkConfList {
  cniVersion: string;
  name: string;
  plugins: Record<string, unknown>[];
}

export interface Pod {
  name: string;
  node: OverlayNode;
  ns: Netns;
  ip: string;
  containerId: string;
}

/** What the node's /etc/cni/net.d/10-weft.conflist holds; every state path is inside the node's directory. */
export function nodeConfList(node: OverlayNode): NetworkConfList {
  const { settings } = node.underlay;
  const delegate = settings.delegate ?? {};
  const ipam = { ...((delegate.ipam as Record<string, unknown> | undefined) ?? {}), dataDir: join(node.dir, 'ipam') };
  return {
    cniVersion: settings.cniVersion ?? '1.1.0',
    name: `weft-${settings.id}`,
    plugins: [{ type: 'weft-vxlan', subnetFile: node.subnetFile, dataDir: join(node.dir, 'cni'), delegate: { ...delegate, ipam } }],
  };
}

/** The config a runtime sends plugin `index` of a list: the list's name and version injected, and the previous plugin's result. */
export function pluginConfig(list: NetworkConfList, index: number, prevResult?: unknown): Record<string, unknown> {
  const plugin = list.plugins[index];
  if (!plugin) throw new Error(`cannot build plugin config: the list "${list.name}" has no plugin ${index}`);
  return { ...plugin, cniVersion: list.cniVersion, name: list.name, ...(prevResult === undefined ? {} : { prevResult }) };
}

/** weft-vxlan's config as the runtime passes it. */
export function vxlanConf(node: OverlayNode): Record<string, unknown> {
  return pluginConfig(nodeConfList(node), 0);
}

function podCall(pod: Omit<Pod, 'ip'>, command: 'ADD' | 'DEL', config: Record<string, unknown>) {
  const { settings } = pod.node.underlay;
  return callCni({
    binDir: settings.cniBinDir,
    plugin: String(config.type),
    command,
    config,
    containerId: pod.containerId,
    netns: pod.ns.path,
    ifname: 'eth0',
    args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod.name};K8S_POD_INFRA_CONTAINER_ID=${pod.containerId}`,
    nodeNetns: pod.node.ns.path,
  });
}

/** Creates the pod's namespace (named after the pod) and runs ADD through the node's config list. */
export async function addPod(node: OverlayNode, name: string): Promise<Pod> {
  const { settings } = node.underlay;
  const ns = await settings.scope.create(name);
  const pod = { name, node, ns, containerId: `${settings.id}-${name}` };
  const list = nodeConfList(node);
  let result: any;
  for (const index of list.plugins.keys()) {
    const outcome = await podCall(pod, 'ADD', pluginConfig(list, index, result));
    if (outcome.code !== 0) throw new Error(`cannot add pod "${name}": ${outcome.stdout} ${outcome.stderr}`);
    result = outcome.json;
  }
  return { ...pod, ip: String(result.ips[0].address).split('/')[0]! };
}

/** Runs DEL through the node's config list in reverse order; the pod's namespace stays for its owner. */
export async function removePod(pod: Pod): Promise<void> {
  const list = nodeConfList(pod.node);
  for (const index of [...list.plugins.keys()].reverse()) {
    const outcome = await podCall(pod, 'DEL', pluginConfig(list, index));
    if (outcome.code !== 0) throw new Error(`cannot remove pod "${pod.name}": ${outcome.stdout} ${outcome.stderr}`);
  }
}
