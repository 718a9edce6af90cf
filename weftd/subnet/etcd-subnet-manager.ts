import type { Logger } from '../../lib/log.ts';
import { Backoff, sleep } from '../../lib/backoff.ts';
import { EtcdClient, type KeyValue } from './etcd-client.ts';
import { ipv4CidrContains, formatIpv4Cidr, type Ipv4Cidr } from '../../lib/ip.ts';
import { decodeLease, encodeLeaseValue, leaseId, parseSubnetKeyName, subnetKeyName, type Lease } from './lease.ts';
import { NetworkConfigError, parseNetworkConfig, type NetworkConfig } from './network-config.ts';
import { chooseFreeSubnet } from './subnet-choice.ts';
import { LeaseLostError, type LeaseAttributes, type SubnetManager } from './subnet-manager.ts';

// Leases in etcd, flannel-compatible: <prefix>/config, <prefix>/subnets/<a.b.c.d-len>, each key
// attached to an etcd lease (24 h TTL as flannel) and created by a transaction "only if absent".

export const LEASE_TTL_SECONDS = 24 * 3600;
/** A watch is restarted (with a fresh listing) this often, so a silently dead connection cannot hide changes for long. */
const RESYNC_INTERVAL_MS = 5 * 60_000;

export interface EtcdSubnetManagerOptions {
  prefix: string;
  log: Logger;
  leaseTtlSeconds?: number;
}

interface StoredLease {
  lease: Lease;
  kv: KeyValue;
}

export class EtcdSubnetManager implements SubnetManager {
  private readonly client: EtcdClient;
  private readonly prefix: string;
  private readonly log: Logger;
  private readonly ttl: number;
  /** The etcd lease ID our subnet key is attached to. */
  private etcdLease = '0';

  constructor(client: EtcdClient, options: EtcdSubnetManagerOptions) {
    this.client = client;
    this.prefix = options.prefix.replace(/\/+$/, '');
    this.log = options.log;
    this.ttl = options.leaseTtlSeconds ?? LEASE_TTL_SECONDS;
  }

  private get subnetsPrefix(): string {
    return `${this.prefix}/subnets/`;
  }

  async getNetworkConfig(signal: AbortSignal): Promise<NetworkConfig> {
    const key = `${this.prefix}/config`;
    const backoff = new Backoff();
    while (!signal.aborted) {
      try {
        const kv = await this.client.get(key);
        if (kv) return parseNetworkConfig(kv.value);
        if (signal.aborted) break;
        this.log.warn('network config not found, waiting', { key });
      } catch (error) {
        if (error instanceof NetworkConfigError) throw error;
        if (signal.aborted) break;
        this.log.warn('cannot read network config, retrying', { key, error });
      }
      await sleep(backoff.nextDelayMs(), signal);
    }
    throw new Error('cannot read network config: stopped');
  }

  private async listLeases(): Promise<{ revision: number; leases: StoredLease[] }> {
    const { revision, kvs } = await this.client.list(this.subnetsPrefix);
    const leases: StoredLease[] = [];
    for (const kv of kvs) {
      const subnet = parseSubnetKeyName(kv.key.slice(this.subnetsPrefix.length));
      const lease = subnet && decodeLease(subnet, kv.value);
      if (lease) leases.push({ lease, kv });
    }
    return { revision, leases };
  }

  private keyOf(subnet: Ipv4Cidr): string {
    return `${this.subnetsPrefix}${subnetKeyName(subnet)}`;
  }

  /** Writes the lease under a fresh etcd lease if the key is as we last saw it; revokes the fresh one on a lost race. */
  private async tryClaim(lease: Lease, modRevision: number): Promise<boolean> {
    const etcdLease = await this.client.grantLease(this.ttl);
    if (await this.client.putIf(this.keyOf(lease.subnet), encodeLeaseValue(lease), { lease: etcdLease, modRevision })) {
      this.etcdLease = etcdLease;
      return true;
    }
    await this.client.revokeLease(etcdLease).catch(() => {});
    return false;
  }

  async acquireLease(config: NetworkConfig, attributes: LeaseAttributes, signal: AbortSignal, preferred?: Ipv4Cidr): Promise<Lease> {
    const backoff = new Backoff();
    // Retries until it succeeds or weftd stops: etcd may be down, or every subnet taken until a node leaves.
    while (!signal.aborted) {
      try {
        const lease = await this.tryAcquire(config, attributes, preferred);
        if (lease) return lease;
        this.log.info('another node took the chosen subnet, choosing again');
      } catch (error) {
        this.log.warn('cannot lease a subnet yet, retrying', { error });
      }
      await sleep(backoff.nextDelayMs(), signal);
    }
    throw new Error('cannot lease a subnet: stopped');
  }

  private async tryAcquire(config: NetworkConfig, attributes: LeaseAttributes, preferred: Ipv4Cidr | undefined): Promise<Lease | undefined> {
    const { leases } = await this.listLeases();
    const fits = (s: Ipv4Cidr): boolean => s.prefix === config.subnetLen && ipv4CidrContains(config.network, s.network) && s.network >= config.subnetMin && s.network <= config.subnetMax;
    const previous = leases.find((l) => l.lease.publicIp === attributes.publicIp && fits(l.lease.subnet));
    if (previous) {
      const lease: Lease = { ...attributes, subnet: previous.lease.subnet };
      if (await this.tryClaim(lease, previous.kv.modRevision)) {
        // The key now hangs on the new etcd lease; the old one holds nothing any more.
        if (previous.kv.lease !== '0') await this.client.revokeLease(previous.kv.lease).catch(() => {});
        this.log.info('reusing previous subnet', { subnet: leaseId(lease) });
        return lease;
      }
      return undefined;
    }
    const taken = leases.map((l) => l.lease.subnet);
    const preferredFree = preferred && fits(preferred) && !taken.some((t) => t.network === preferred.network);
    const subnet = preferredFree ? preferred : chooseFreeSubnet(config, taken);
    if (!subnet) throw new Error(`cannot lease a subnet: every /${config.subnetLen} of "${formatIpv4Cidr(config.network)}" is taken`);
    const lease: Lease = { ...attributes, subnet };
    if (!(await this.tryClaim(lease, 0))) return undefined;
    this.log.info('leased new subnet', { subnet: leaseId(lease) });
    return lease;
  }

  async renewLease(lease: Lease): Promise<void> {
    const ttl = await this.client.keepAlive(this.etcdLease);
    if (ttl <= 0) throw new LeaseLostError(`cannot renew lease of "${leaseId(lease)}": etcd lease "${this.etcdLease}" is gone`);
  }

  async watchLeases(signal: AbortSignal, onLeases: (leases: ReadonlyMap<string, Lease>) => Promise<void>): Promise<void> {
    const backoff = new Backoff();
    while (!signal.aborted) {
      const round = AbortSignal.any([signal, AbortSignal.timeout(RESYNC_INTERVAL_MS)]);
      try {
        const { revision, leases } = await this.listLeases();
        const current = new Map(leases.map((l) => [leaseId(l.lease), l.lease]));
        await onLeases(current);
        backoff.reset();
        for await (const events of this.client.watch(this.subnetsPrefix, revision + 1, round)) {
          for (const event of events) {
            const subnet = parseSubnetKeyName(event.kv.key.slice(this.subnetsPrefix.length));
            if (!subnet) continue;
            const lease = event.type === 'put' ? decodeLease(subnet, event.kv.value) : undefined;
            if (lease) current.set(leaseId(lease), lease);
            else current.delete(formatIpv4Cidr(subnet));
          }
          await onLeases(current);
        }
      } catch (error) {
        if (signal.aborted) return;
        // The periodic resync ends the watch on purpose: list again at once.
        if (round.aborted) continue;
        this.log.warn('lease watch interrupted, listing again', { error });
      }
      await sleep(backoff.nextDelayMs(), signal);
    }
  }
}
