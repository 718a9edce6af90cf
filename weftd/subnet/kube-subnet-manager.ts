import { readFileSync } from 'node:fs';
import { CoreV1Api, makeInformer, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../lib/kube/config.ts';
import type { Logger } from '../../lib/log.ts';
import { Backoff, sleep } from '../../lib/backoff.ts';
import { formatIpv4Cidr, type Ipv4Cidr } from '../../lib/ip.ts';
import { leaseId, type Lease } from './lease.ts';
import { NetworkConfigError, parseNetworkConfig, type NetworkConfig } from './network-config.ts';
import { leasesFromNodes, nodePodCidr, podCidrProblem, renderAnnotationPatch } from './node-annotations.ts';
import { renderNetworkAvailablePatch } from './node-condition.ts';
import { NodeGoneError, type LeaseAttributes, type SubnetManager } from './subnet-manager.ts';

// Leases from Node objects (weftd --kube-subnet-mgr, flannel's kube subnet manager): the subnet is
// the Node's spec.podCIDR, which kube-controller-manager allocates (--allocate-node-cidrs), so there
// is nothing to choose and nothing to expire; weftd only publishes its backend data as annotations
// on its own Node (patched through nodes/status, the one write its RBAC grants) and watches all Nodes.
// Once the fabric is programmed it sets the Node's NetworkUnavailable condition to False, as flanneld
// does; when its own Node is deleted it ends, since the node it serves is gone.
// This module imports @kubernetes/client-node (slow to load): it lives in the daemons' bundle, and weftd loads it only in this mode (bin/overlay-daemon.ts).

/** Waiting for a podCIDR or for the Node itself: checked at most this far apart. */
const WAIT_MAX_MS = 5_000;

export interface KubeSubnetManagerOptions {
  nodeName: string;
  netConfigPath: string;
  log: Logger;
}

function statusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** An API error as one readable line: the client's own message nests the JSON Status body in escaped text. */
function describeError(error: unknown): unknown {
  const code = statusCode(error);
  if (code === undefined) return error;
  const body = (error as { body?: unknown }).body;
  let message: unknown;
  try {
    message = typeof body === 'string' ? JSON.parse(body).message : (body as { message?: unknown } | undefined)?.message;
  } catch {
    message = body;
  }
  return `HTTP ${code}: ${typeof message === 'string' ? message : 'no message'}`;
}

/** The leases as comparable text, so a Node update that changes no lease (status heartbeats) costs no sync. */
function leasesKey(leases: ReadonlyMap<string, Lease>): string {
  return JSON.stringify([...leases.values()].map((l) => [leaseId(l), l.publicIp, l.vni, l.vtepMac]).sort());
}

export class KubeSubnetManager implements SubnetManager {
  private readonly kubeConfig: KubeConfig;
  private readonly api: CoreV1Api;
  private readonly options: KubeSubnetManagerOptions;
  private network: Ipv4Cidr | undefined;

  constructor(kubeConfig: KubeConfig, options: KubeSubnetManagerOptions) {
    this.kubeConfig = kubeConfig;
    this.api = kubeConfig.makeApiClient(CoreV1Api);
    this.options = options;
  }

  /** Reads the local net-conf.json at once: a missing or bad file is the operator's to fix, not to wait for. */
  async getNetworkConfig(): Promise<NetworkConfig> {
    const path = this.options.netConfigPath;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new NetworkConfigError(`cannot read network config "${path}": ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    try {
      const config = parseNetworkConfig(text);
      this.network = config.network;
      return config;
    } catch (error) {
      throw new NetworkConfigError(`cannot use network config "${path}": ${(error as Error).message}`);
    }
  }

  async acquireLease(config: NetworkConfig, attributes: LeaseAttributes, signal: AbortSignal): Promise<Lease> {
    this.network = config.network;
    const { nodeName: name, log } = this.options;
    const backoff = new Backoff({ maxMs: WAIT_MAX_MS });
    while (!signal.aborted) {
      try {
        const node = await this.api.readNode({ name });
        const subnet = nodePodCidr(node);
        if (subnet) {
          const problem = podCidrProblem(subnet, config.network);
          if (problem) throw new NetworkConfigError(`cannot use Node "${name}": ${problem}`);
          const lease: Lease = { ...attributes, subnet };
          await this.publish(node, lease);
          return lease;
        }
        log.info('waiting for the Node\'s podCIDR (kube-controller-manager allocates it with --allocate-node-cidrs)', { node: name });
      } catch (error) {
        if (error instanceof NetworkConfigError) throw error;
        if (statusCode(error) === 404) log.info('waiting for the Node object to exist', { node: name });
        else log.warn('cannot read or annotate the Node yet, retrying', { node: name, error: describeError(error) });
      }
      await sleep(backoff.nextDelayMs(), signal);
    }
    throw new Error('cannot lease a subnet: stopped');
  }

  private async publish(node: V1Node, lease: Lease): Promise<void> {
    const patch = renderAnnotationPatch(node, lease);
    if (!patch) return;
    await this.api.patchNodeStatus({ name: this.options.nodeName, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    this.options.log.info('published backend data on the Node', { node: this.options.nodeName, subnet: formatIpv4Cidr(lease.subnet), annotations: Object.keys(patch.metadata.annotations) });
  }

  async announceReady(): Promise<void> {
    const name = this.options.nodeName;
    const patch = renderNetworkAvailablePatch(await this.api.readNode({ name }), new Date());
    if (!patch) return;
    await this.api.patchNodeStatus({ name, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    this.options.log.info('set the Node\'s NetworkUnavailable condition to False', { node: name });
  }

  /** Node objects do not expire: nothing to renew. A Node that loses its annotations shows up in the watch instead. */
  async renewLease(): Promise<void> {}

  async watchLeases(signal: AbortSignal, onLeases: (leases: ReadonlyMap<string, Lease>) => Promise<void>): Promise<void> {
    const { log, nodeName } = this.options;
    const network = this.network;
    if (!network) throw new Error('cannot watch leases: the network config was not read');
    // Until one listing succeeded the cache is empty for want of data, not of Nodes: publishing it
    // would withdraw every route (and this node's own lease).
    let listed = false;
    const backoff = new Backoff();
    const informer = makeInformer<V1Node>(this.kubeConfig, '/api/v1/nodes', async () => {
      const list = await this.api.listNode();
      listed = true;
      return list;
    });
    let gone: ((error: NodeGoneError) => void) | undefined;
    const nodeGone = new Promise<never>((_, reject) => (gone = reject));
    nodeGone.catch(() => {}); // awaited below; it may settle before that
    let published: string | undefined;
    let queued = false;
    let chain = Promise.resolve();
    // Coalesces bursts (the initial listing adds every Node): one pass reads the cache as it is then.
    const schedule = (): void => {
      if (queued || !listed || signal.aborted) return;
      queued = true;
      chain = chain.then(async () => {
        queued = false;
        // A listing holds the Node (acquireLease read it): its absence is a deletion, not a gap in the data.
        if (!informer.get(nodeName)) return gone?.(new NodeGoneError(`cannot serve Node "${nodeName}": it was deleted`));
        const leases = leasesFromNodes(informer.list(), network);
        const key = leasesKey(leases);
        if (key === published) return;
        try {
          await onLeases(leases);
          published = key;
          backoff.reset();
        } catch (error) {
          const delay = backoff.nextDelayMs();
          log.warn('cannot apply the Nodes\' leases, retrying', { retryInMs: delay, error });
          void sleep(delay, signal).then(schedule);
        }
      });
    };
    informer.on('change', schedule);
    // The informer stops on an error (the API server down, credentials refused): start it again, paced.
    informer.on('error', (error: unknown) => {
      if (signal.aborted) return;
      const delay = backoff.nextDelayMs();
      log.warn('Node watch interrupted, listing again', { retryInMs: delay, error: describeError(error) });
      void sleep(delay, signal).then(() => (signal.aborted ? undefined : informer.start().then(schedule)));
    });
    try {
      await informer.start();
      schedule();
      const stopped = new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
      await Promise.race([stopped, nodeGone]);
    } finally {
      await informer.stop();
      await chain;
    }
  }
}

/** The manager for weftd's flags: credentials from the kubeconfig file, else the pod's service account. */
export function createKubeSubnetManager(choice: { nodeName: string; netConfigPath: string; kubeconfigFile?: string }, options: { log: Logger }): KubeSubnetManager {
  return new KubeSubnetManager(loadKubeConfig({ kubeconfig: choice.kubeconfigFile }), { nodeName: choice.nodeName, netConfigPath: choice.netConfigPath, log: options.log });
}
