import { listenHttp, NOT_FOUND, type HttpHandler, type HttpListener } from '../lib/http-listener.ts';
import type { Logger } from '../lib/log.ts';
import { Backoff, sleep } from '../lib/backoff.ts';
import { applyFabricCommands, ensureDevice, findUplink, readKernelFabric } from './fabric/fabric-apply.ts';
import { planStalePrune } from './fabric/fabric-prune.ts';
import { deviceName, planFabricChange, planPeers, vtepMacFor, type FabricSpec, type Peer } from './fabric/fabric-plan.ts';
import { ensureMasquerade } from './ip-masq.ts';
import { formatIpv4Cidr } from '../lib/ip.ts';
import { leaseId, type Lease } from './subnet/lease.ts';
import { NetworkConfigError } from './subnet/network-config.ts';
import { writeSubnetFile } from './subnet-file.ts';
import { LeaseLostError, type SubnetManager } from './subnet/subnet-manager.ts';
import { VXLAN_OVERHEAD, type DeviceSpec } from './fabric/vxlan-device.ts';
import type { WeftdArgs } from './args.ts';

// weftd: read the config, lease a subnet, make the VXLAN device, publish the subnet file, then keep
// the lease renewed and the peers programmed until stopped. Only an unusable config ends it early;
// an etcd outage leaves the programmed fabric in place while renewals and the watch retry.

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

/** Returns the exit code: 0 after a clean stop, 1 when the config or the node cannot be used. */
export async function runDaemon(options: DaemonOptions, deps: DaemonDeps): Promise<number> {
  const { manager, log, signal } = deps;
  let ready = false;
  let healthz: HttpListener | undefined;
  try {
    // Bound first: a health check that cannot be served is a start-up failure, not a silent gap.
    if (options.healthzPort !== undefined) healthz = await listenHttp(options.healthzIp, options.healthzPort, healthzHandler(() => ready));
    const uplink = await findUplink({ iface: options.iface, publicIp: options.publicIp });
    const config = await manager.getNetworkConfig(signal);
    const vni = config.backend.vni;
    const attributes = { publicIp: options.publicIp ?? uplink.address, vni, vtepMac: vtepMacFor(options.publicIp ?? uplink.address, vni) };
    let lease = await manager.acquireLease(config, attributes, signal);
    const mtu = config.backend.mtu || uplink.mtu - VXLAN_OVERHEAD;
    const device: DeviceSpec = { name: deviceName(vni), vni, port: config.backend.port, local: uplink.address, uplink: uplink.name, mac: attributes.vtepMac, mtu, subnet: lease.subnet };

    // Programs the node for its (possibly re-acquired) lease; the peers are recomputed from scratch.
    let programmed = new Map<string, Peer>();
    let pruned = false;
    let leases: ReadonlyMap<string, Lease> = new Map();
    const spec = (): FabricSpec => ({ device: device.name, uplink, directRouting: config.backend.directRouting, vni, own: lease.subnet });
    const setUpNode = async (): Promise<void> => {
      const { recreated } = await ensureDevice({ ...device, subnet: lease.subnet });
      if (recreated) {
        log.warn('recreated VXLAN device', { device: device.name, reason: recreated });
        programmed = new Map();
        pruned = false;
      }
      if (options.ipMasq) await ensureMasquerade(config.network, lease.subnet);
      writeSubnetFile(options.subnetFile, { network: config.network, subnet: lease.subnet, mtu, ipMasq: options.ipMasq });
      log.info('node ready', { subnet: formatIpv4Cidr(lease.subnet), device: device.name, mtu, publicIp: attributes.publicIp, vtepMac: attributes.vtepMac });
    };
    await setUpNode();

    // One sync at a time: watch callbacks and re-acquisition both go through this queue.
    let queue: Promise<void> = Promise.resolve();
    const sync = (): Promise<void> => {
      const step = queue.then(async () => {
        const wanted = planPeers(spec(), leases.values());
        if (!pruned) {
          const stale = planStalePrune(spec(), config.network, wanted, await readKernelFabric(device.name, uplink.name));
          if (stale.ipRemove.length || stale.bridgeRemove.length) log.info('removing fabric entries left from an earlier run', { entries: [...stale.ipRemove, ...stale.bridgeRemove] });
          await applyFabricCommands(stale);
          pruned = true;
        }
        const commands = planFabricChange(spec(), programmed, wanted);
        const { removalErrors } = await applyFabricCommands(commands);
        if (removalErrors.length) log.warn('some stale fabric entries could not be removed', { errors: removalErrors });
        const added = [...wanted.keys()].filter((k) => !programmed.has(k));
        const removed = [...programmed.keys()].filter((k) => !wanted.has(k));
        if (added.length || removed.length) log.info('fabric updated', { added, removed, peers: wanted.size });
        programmed = wanted;
        ready = true;
      });
      // A failed step is reported to its caller (the watch retries); the queue itself keeps going.
      queue = step.catch(() => {});
      return step;
    };

    // Leases again after the lease expired or its key was deleted, asking for the same subnet.
    let reclaiming: Promise<void> | undefined;
    const reclaim = (reason: string): Promise<void> => {
      reclaiming ??= (async () => {
        log.warn('lease lost, leasing again', { subnet: leaseId(lease), reason });
        try {
          lease = await manager.acquireLease(config, attributes, signal, lease.subnet);
          queue = queue.then(setUpNode).catch((error: unknown) => log.error('cannot set up node for its new lease', { error }));
          await sync().catch(() => {});
        } catch {
          // only when stopping
        } finally {
          reclaiming = undefined;
        }
      })();
      return reclaiming;
    };

    const renewals = (async () => {
      const backoff = new Backoff();
      let delay = options.renewIntervalMs;
      while (!signal.aborted) {
        await sleep(delay, signal);
        if (signal.aborted) return;
        try {
          await manager.renewLease(lease);
          backoff.reset();
          delay = options.renewIntervalMs;
        } catch (error) {
          if (error instanceof LeaseLostError) {
            await reclaim(error.message);
            delay = options.renewIntervalMs;
          } else {
            delay = backoff.nextDelayMs();
            log.warn('cannot renew lease, retrying', { subnet: leaseId(lease), retryInMs: delay, error });
          }
        }
      }
    })();

    await manager.watchLeases(signal, async (current) => {
      leases = current;
      if (!current.has(leaseId(lease)) && !reclaiming) void reclaim('the subnet manager no longer lists it');
      await sync();
    });
    await renewals;
    log.info('stopped; fabric, lease and subnet file left in place for the next start');
    return 0;
  } catch (error) {
    if (error instanceof NetworkConfigError) {
      log.error('cannot start: the network config is unusable', { error });
      return 1;
    }
    if (signal.aborted) return 0;
    log.error('cannot start', { error });
    return 1;
  } finally {
    await healthz?.close();
  }
}
