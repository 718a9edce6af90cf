import { coalesce } from '../lib/coalesce.ts';
import { formatIpv4Cidr } from '../lib/ip.ts';
import type { Logger } from '../lib/log.ts';
import { fabricCommandLine, planFabricChange, planPeers, type FabricSpec, type Peer, type Uplink } from './fabric/fabric-plan.ts';
import { planStalePrune } from './fabric/fabric-prune.ts';
import { FabricWriter } from './fabric/fabric-writer.ts';
import { ensureDevice, readKernelFabric } from './fabric/kernel-fabric.ts';
import type { DeviceSpec } from './fabric/vxlan-device.ts';
import { ensureMasquerade } from './ip-masq.ts';
import type { Lease } from './subnet/lease.ts';
import type { NetworkConfig } from './subnet/network-config.ts';
import type { LeaseAttributes } from './subnet/subnet-manager.ts';
import { writeSubnetFile } from './subnet-file.ts';

// This node's side of the overlay: the VXLAN device for its lease, the masquerade rules, the subnet
// file, and one route, neighbour and FDB entry per other node. Lease sets that arrive while a sync
// runs are applied together by the next one; the peers are always planned from the latest set.

export interface NodeIdentity {
  uplink: Uplink;
  config: NetworkConfig;
  attributes: LeaseAttributes;
  /** The device as this node wants it, for whatever subnet it leases. */
  device: Omit<DeviceSpec, 'subnet'>;
}

export interface NodeFabricOptions {
  ipMasq: boolean;
  subnetFile: string;
  log: Logger;
  /** Applies the fabric changes; the node fabric ends it on close. */
  writer: FabricWriter;
}

export class NodeFabric {
  readonly #node: NodeIdentity;
  readonly #options: NodeFabricOptions;
  readonly #writer: FabricWriter;
  #lease: Lease;
  /** The device, rules and subnet file are for an earlier lease (or none yet). */
  #setUpNeeded = true;
  /** What the previous sync left in the kernel, by subnet. */
  #programmed = new Map<string, Peer>();
  /** Entries an earlier run left were removed (once per device). */
  #pruned = false;
  #leases: ReadonlyMap<string, Lease> = new Map();
  readonly sync = coalesce(() => this.#sync());

  constructor(node: NodeIdentity, lease: Lease, options: NodeFabricOptions) {
    this.#node = node;
    this.#lease = lease;
    this.#options = options;
    this.#writer = options.writer;
  }

  get lease(): Lease {
    return this.#lease;
  }

  /** Brings the device, rules and subnet file to the current lease. */
  async setUp(): Promise<void> {
    const { config } = this.#node;
    const { log } = this.#options;
    const device: DeviceSpec = { ...this.#node.device, subnet: this.#lease.subnet };
    const { created, recreated } = await ensureDevice(device);
    if (recreated) log.warn('recreated VXLAN device', { device: device.name, reason: recreated });
    if (created) {
      // A new device holds no entries at all, so nothing is left to prune unless DirectRouting
      // routes (on the uplink) outlived an earlier run.
      this.#writer.deviceMade(device.name);
      this.#programmed = new Map();
      this.#pruned = !config.backend.directRouting;
    }
    if (this.#options.ipMasq) await ensureMasquerade(config.network, this.#lease.subnet);
    writeSubnetFile(this.#options.subnetFile, { network: config.network, subnet: this.#lease.subnet, mtu: device.mtu, ipMasq: this.#options.ipMasq });
    this.#setUpNeeded = false;
    log.info('node ready', { subnet: formatIpv4Cidr(this.#lease.subnet), device: device.name, mtu: device.mtu, publicIp: this.#node.attributes.publicIp, vtepMac: this.#node.attributes.vtepMac });
  }

  /** Programs every other node's lease in `leases`; resolves once a sync that saw them is done. */
  update(leases: ReadonlyMap<string, Lease>): Promise<void> {
    this.#leases = leases;
    return this.sync();
  }

  /** Takes a new lease (after the old one was lost): the next sync sets the node up for it first. */
  relocate(lease: Lease): Promise<void> {
    this.#lease = lease;
    this.#setUpNeeded = true;
    return this.sync();
  }

  /** Closes the fabric's socket; the kernel state stays for the next start. */
  close(): void {
    this.#writer.close();
  }

  #spec(): FabricSpec {
    const { uplink, config, device } = this.#node;
    return { device: device.name, uplink, directRouting: config.backend.directRouting, vni: device.vni, own: this.#lease.subnet };
  }

  async #sync(): Promise<void> {
    if (this.#setUpNeeded) await this.setUp();
    const { log } = this.#options;
    const spec = this.#spec();
    const wanted = planPeers(spec, this.#leases.values());
    if (!this.#pruned) {
      const stale = planStalePrune(spec, this.#node.config.network, wanted, await readKernelFabric(spec.device, spec.uplink.name));
      if (stale.remove.length) log.info('removing fabric entries left from an earlier run', { entries: stale.remove.map(fabricCommandLine) });
      this.#writer.apply(stale);
      this.#pruned = true;
    }
    const { removalErrors } = this.#writer.apply(planFabricChange(spec, this.#programmed, wanted));
    if (removalErrors.length) log.warn('some stale fabric entries could not be removed', { errors: removalErrors });
    const added = [...wanted.keys()].filter((k) => !this.#programmed.has(k));
    const removed = [...this.#programmed.keys()].filter((k) => !wanted.has(k));
    if (added.length || removed.length) log.info('fabric updated', { added, removed, peers: wanted.size });
    this.#programmed = wanted;
  }
}
