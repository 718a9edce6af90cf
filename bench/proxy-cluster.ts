import type { ControlPlane } from '../lab/kube/control-plane.ts';
import type { Netns, NetnsScope } from '../test/support/netns.ts';
import type { ApiWriter } from './proxy-api.ts';
import { BENCH_NAMESPACE, generateObjects, sliceObject, type ApiObject } from './proxy-objects.ts';

// The benchmark's cluster: one API server in its own namespace holding the generated Services, and a
// fresh node namespace per proxy run, wired to it by a veth, with its Node object.

export const API_IP = '10.123.0.1';

export interface ClusterContext {
  readonly cp: ControlPlane;
  readonly cpNetns: Netns;
  readonly scope: NetnsScope;
  readonly api: ApiWriter;
  /** A kubeconfig for proxies (CN system:kube-proxy), reachable from node namespaces. */
  readonly kubeconfig: string;
  readonly progress: (line: string) => void;
  /** Where a proxy's log of one case is kept (weft-proxy's, for the breakdown and for a look afterwards). */
  readonly logFile?: (name: string) => string;
  /** Counts node namespaces so each gets its own /24 on the control plane's side. */
  nodes: number;
}

export function collectionPath(object: ApiObject): string {
  return object.kind === 'Service' ? `/api/v1/namespaces/${BENCH_NAMESPACE}/services` : `/apis/discovery.k8s.io/v1/namespaces/${BENCH_NAMESPACE}/endpointslices`;
}

export function objectPath(object: ApiObject): string {
  return `${collectionPath(object)}/${(object.metadata as { name: string }).name}`;
}

/** Services [from, to) and their slices, created with `parallel` requests in flight. */
export async function createObjects(ctx: ClusterContext, range: { from: number; to: number }, options: { endpoints: number; parallel?: number }): Promise<void> {
  const items = generateObjects(range, options.endpoints);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as ApiObject;
      await ctx.api.request('POST', collectionPath(item), item);
      done += 1;
      if (done % 2000 === 0) ctx.progress(`  api: ${range.from + done / 2}/${range.to} Services and EndpointSlices created`);
    }
  };
  await Promise.all(Array.from({ length: options.parallel ?? 24 }, worker));
}

/** One endpoint change, as the EndpointSlice controller makes it: the slice's endpoint list rewritten. */
export function patchEndpoints(ctx: ClusterContext, index: number, addresses: readonly string[]) {
  const slice = sliceObject(index, addresses);
  return ctx.api.request('PATCH', objectPath(slice), { endpoints: slice.endpoints });
}

/**
 * A fresh node namespace with a veth to the control plane's namespace (link `n<k>` there, `eth0` here),
 * and its Node object carrying that address: kube-proxy waits for its Node's addresses at start.
 */
export async function createNode(ctx: ClusterContext, name: string): Promise<{ node: Netns; nodeName: string }> {
  const { cpNetns, cp } = ctx;
  const k = ++ctx.nodes;
  const nodeName = `${name}-${k}`;
  const node = await ctx.scope.create(`pn-${k}`);
  await cpNetns.exec('ip', ['link', 'add', `n${k}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.name]);
  await cpNetns.exec('ip', ['addr', 'add', `10.123.${k}.1/24`, 'dev', `n${k}`]);
  await cpNetns.exec('ip', ['link', 'set', `n${k}`, 'up']);
  await node.exec('ip', ['addr', 'add', `10.123.${k}.2/24`, 'dev', 'eth0']);
  await node.exec('ip', ['link', 'set', 'eth0', 'up']);
  await node.exec('ip', ['route', 'add', 'default', 'via', `10.123.${k}.1`]);
  await cp.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName } }) });
  const status = { status: { addresses: [{ type: 'InternalIP', address: `10.123.${k}.2` }, { type: 'Hostname', address: nodeName }] } };
  await cp.kubectl(['patch', 'node', nodeName, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
  return { node, nodeName };
}
