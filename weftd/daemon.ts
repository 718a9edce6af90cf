import { Backoff, sleep } from '../lib/backoff.ts';
import { listenHttp, NOT_FOUND, type HttpHandler, type HttpListener } from '../lib/http-listener.ts';
import type { Logger } from '../lib/log.ts';
import type { WeftdArgs } from './args.ts';
import { deviceName, vtepMacFor } from './fabric/fabric-plan.ts';
import { FabricWriter } from './fabric/fabric-writer.ts';
import { findUplink } from './fabric/kernel-fabric.ts';
import { VXLAN_OVERHEAD } from './fabric/vxlan-device.ts';
import { NodeFabric, type NodeIdentity } from './node-fabric.ts';
import { leaseId } from './subnet/lease.ts';
import { NetworkConfigError } from './subnet/network-config.ts';
import { LeaseLostError, NodeGoneError, type SubnetManager } from './subnet/subnet-manager.ts';

// weftd: read the config, lease a subnet, make the VXLAN device, publish the subnet file, then keep
// the lease renewed and the peers programmed until stopped. Only an unusable config (or, with Node
// objects, this node's Node being deleted) ends it early; an etcd or API server outage leaves the
// programmed fabric in place while renewals and the watch retry.

/** The renew interval should stay well inside the lease's 24 h TTL. */
export type DaemonOptions = Pick<WeftdArgs, 'iface' | 'publicIp' | 'subnetFile' | 'ipMasq' | 'healthzIp' | 'healthzPort' | 'renewIntervalMs'>;

export interface DaemonDeps {
  manager: SubnetManager;
  log: Logger;
  signal: AbortSignal;
}

const TEXT = 'text/plain; charset=utf-8';

function healthzHandler(healthy: () => boolean): HttpHandler {
  return ({ path }) => {
    if (path !== '/healthz') return NOT_FOUND;
    return healthy() ? { status: 200, contentType: TEXT, body: 'ok\n' } : { status: 503, contentType: TEXT, body: 'not ready\n' };
  };
}

/** Bound first: a health check that cannot be served is a start-up failure, not a silent gap. */
async function serveHealthz(options: DaemonOptions, healthy: () => boolean): Promise<HttpListener | undefined> {
  return options.healthzPort === undefined ? undefined : listenHttp(options.healthzIp, options.healthzPort, healthzHandler(healthy));
}

/** Who this node is on the overlay: its uplink, the network config, and the VTEP it announces. */
async function identifyNode(options: DaemonOptions, manager: SubnetManager, signal: AbortSignal): Promise<NodeIdentity> {
  // Both at once; without an uplink the node cannot join, so waiting for the config ends too.
  const noUplink = new AbortController();
  const uplinkFound = findUplink({ iface: options.iface, publicIp: options.publicIp }).catch((error: unknown) => {
    noUplink.abort();
    throw error;
  });
  const [uplink, config] = await Promise.all([uplinkFound, manager.getNetworkConfig(AbortSignal.any([signal, noUplink.signal]))]);
  const { vni, port } = config.backend;
  const publicIp = options.publicIp ?? uplink.address;
  const attributes = { publicIp, vni, vtepMac: vtepMacFor(publicIp, vni) };
  const mtu = config.backend.mtu || uplink.mtu - VXLAN_OVERHEAD;
  return { uplink, config, attributes, device: { name: deviceName(vni), vni, port, local: uplink.address, uplink: uplink.name, mac: attributes.vtepMac, mtu } };
}

/** The lease's life after start: renewed, leased again (the same subnet if free) once lost. */
class LeaseKeeper {
  readonly #node: NodeIdentity;
  readonly #fabric: NodeFabric;
  readonly #deps: DaemonDeps;
  #reclaiming: Promise<void> | undefined;

  constructor(node: NodeIdentity, fabric: NodeFabric, deps: DaemonDeps) {
    this.#node = node;
    this.#fabric = fabric;
    this.#deps = deps;
  }

  /** Leases again after the lease expired or its key was deleted, asking for the same subnet. */
  reclaim(reason: string): Promise<void> {
    const { manager, log, signal } = this.#deps;
    this.#reclaiming ??= (async () => {
      const lost = this.#fabric.lease;
      log.warn('lease lost, leasing again', { subnet: leaseId(lost), reason });
      try {
        const lease = await manager.acquireLease(this.#node.config, this.#node.attributes, signal, lost.subnet);
        await this.#fabric.relocate(lease).catch((error: unknown) => log.error('cannot set up node for its new lease', { error }));
      } catch {
        // only when stopping
      } finally {
        this.#reclaiming = undefined;
      }
    })();
    return this.#reclaiming;
  }

  get reclaiming(): boolean {
    return this.#reclaiming !== undefined;
  }

  async renewUntilStopped(intervalMs: number): Promise<void> {
    const { manager, log, signal } = this.#deps;
    const backoff = new Backoff();
    let delay = intervalMs;
    while (!signal.aborted) {
      await sleep(delay, signal);
      if (signal.aborted) return;
      try {
        await manager.renewLease(this.#fabric.lease);
        backoff.reset();
        delay = intervalMs;
      } catch (error) {
        if (error instanceof LeaseLostError) {
          await this.reclaim(error.message);
          delay = intervalMs;
        } else {
          delay = backoff.nextDelayMs();
          log.warn('cannot renew lease, retrying', { subnet: leaseId(this.#fabric.lease), retryInMs: delay, error });
        }
      }
    }
  }
}

/** Programs every lease set the manager reports; the first programmed one makes the node ready. */
async function followLeases(fabric: NodeFabric, keeper: LeaseKeeper, deps: DaemonDeps, onProgrammed: () => void): Promise<void> {
  await deps.manager.watchLeases(deps.signal, async (leases) => {
    if (!leases.has(leaseId(fabric.lease)) && !keeper.reclaiming) void keeper.reclaim('the subnet manager no longer lists it');
    await fabric.update(leases);
    onProgrammed();
  });
}

/** Tells the subnet manager the node carries traffic (with Node objects: NetworkUnavailable=False), until it took note once. */
function announceReady(manager: SubnetManager, log: Logger): () => void {
  let announced = false;
  let announcing = false;
  return () => {
    if (announced || announcing || !manager.announceReady) return;
    announcing = true;
    manager.announceReady().then(
      () => (announced = true),
      (error: unknown) => log.warn('cannot report the node\'s network as available, trying again after the next sync', { error }),
    ).finally(() => (announcing = false));
  };
}

function exitCodeFor(error: unknown, signal: AbortSignal, log: Logger): number {
  if (error instanceof NetworkConfigError) {
    log.error('cannot start: the network config is unusable', { error });
    return 1;
  }
  if (error instanceof NodeGoneError) {
    log.error('cannot go on: this node\'s Node object was deleted; exiting so the DaemonSet starts weftd again for the Node that replaces it', { error });
    return 1;
  }
  if (signal.aborted) return 0;
  log.error('cannot start', { error });
  return 1;
}

/** Returns the exit code: 0 after a clean stop, 1 when the config or the node cannot be used. */
export async function runDaemon(options: DaemonOptions, deps: DaemonDeps): Promise<number> {
  const { manager, log } = deps;
  // Ends the renewals too when the lease watch gives up.
  const stop = new AbortController();
  const signal = AbortSignal.any([deps.signal, stop.signal]);
  const running = { ...deps, signal };
  let ready = false;
  let healthz: HttpListener | undefined;
  const writer = new FabricWriter();
  let fabric: NodeFabric | undefined;
  try {
    healthz = await serveHealthz(options, () => ready);
    writer.open();
    const node = await identifyNode(options, manager, signal);
    fabric = new NodeFabric(node, await manager.acquireLease(node.config, node.attributes, signal), { ipMasq: options.ipMasq, subnetFile: options.subnetFile, log, writer });
    await fabric.setUp();
    const keeper = new LeaseKeeper(node, fabric, running);
    const renewals = keeper.renewUntilStopped(options.renewIntervalMs);
    const announce = announceReady(manager, log);
    try {
      await followLeases(fabric, keeper, running, () => {
        ready = true;
        announce();
      });
    } finally {
      stop.abort();
      await renewals;
    }
    log.info('stopped; fabric, lease and subnet file left in place for the next start');
    return 0;
  } catch (error) {
    return exitCodeFor(error, deps.signal, log);
  } finally {
    (fabric ?? writer).close();
    await healthz?.close();
  }
}
