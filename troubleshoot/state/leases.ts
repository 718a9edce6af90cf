import type { Lease } from '../../plugins/vxlan/lease.ts';
import { decodeLease, leaseId, parseSubnetKeyName } from '../../plugins/vxlan/lease.ts';
import { EtcdClient } from '../../plugins/vxlan/etcd-client.ts';
import { parseNetworkConfig, type NetworkConfig } from '../../plugins/vxlan/network-config.ts';
import type { WeftdArgs } from '../../plugins/vxlan/weftd-args.ts';

// Every node's lease, read where this node's weftd reads them (its own flags say where): flannel's
// keys in etcd, or Node objects with --kube-subnet-mgr. In etcd mode also how long this node's lease
// has left, which shows whether its renewals keep up.

export interface LeaseView {
  readonly source: 'etcd' | 'kube';
  readonly network?: NetworkConfig;
  readonly leases: readonly Lease[];
  /** etcd: this node's lease's remaining and granted TTL (seconds), and weftd's renew interval. */
  readonly renewal?: { readonly ttl: number; readonly grantedTtl: number; readonly renewIntervalMs: number };
  /** kube: the Node's name and spec.podCIDR. */
  readonly node?: { readonly name: string; readonly podCidr?: string };
  readonly error?: string;
}

const TIMEOUT_MS = 2_000;

async function readEtcdLeases(args: WeftdArgs, publicIp: string | undefined): Promise<LeaseView> {
  const choice = args.subnetManager;
  if (choice.kind !== 'etcd') throw new Error('not etcd');
  const client = new EtcdClient(choice.endpoints, { timeoutMs: TIMEOUT_MS });
  const prefix = choice.prefix.replace(/\/+$/, '');
  const config = await client.get(`${prefix}/config`);
  const network = config ? parseNetworkConfig(config.value) : undefined;
  const { kvs } = await client.list(`${prefix}/subnets/`);
  const leases: Lease[] = [];
  let ownEtcdLease: string | undefined;
  for (const kv of kvs) {
    const subnet = parseSubnetKeyName(kv.key.slice(`${prefix}/subnets/`.length));
    const lease = subnet && decodeLease(subnet, kv.value);
    if (!lease) continue;
    leases.push(lease);
    if (lease.publicIp === publicIp) ownEtcdLease = kv.lease;
  }
  const ttl = ownEtcdLease && ownEtcdLease !== '0' ? await client.timeToLive(ownEtcdLease) : undefined;
  return {
    source: 'etcd',
    ...(network ? { network } : {}),
    leases: leases.sort((a, b) => leaseId(a).localeCompare(leaseId(b))),
    ...(ttl ? { renewal: { ...ttl, renewIntervalMs: args.renewIntervalMs } } : {}),
  };
}

/** The leases weftd sees; problems reaching the store come back as `error`, never thrown. */
export async function readLeases(args: WeftdArgs, publicIp: string | undefined): Promise<LeaseView> {
  const source = args.subnetManager.kind;
  try {
    if (source === 'etcd') return await readEtcdLeases(args, publicIp);
    const { readKubeLeases } = await import('./kube-leases.ts');
    return await readKubeLeases(args);
  } catch (error) {
    return { source, leases: [], error: error instanceof Error ? error.message : String(error) };
  }
}
