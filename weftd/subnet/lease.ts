import { isMacAddress } from '../../lib/mac.ts';
import { formatIpv4Cidr, formatIpv4, parseIpv4Cidr, parseIpv4, type Ipv4Cidr } from '../../lib/ip.ts';

// A node's subnet lease as flannel stores it: key "<prefix>/subnets/10.244.1.0-24", value
// {"PublicIP":"...","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"..."}}.

export interface Lease {
  subnet: Ipv4Cidr;
  publicIp: string;
  vni: number;
  vtepMac: string;
}


/** The key suffix under <prefix>/subnets/: "10.244.1.0-24". */
export function subnetKeyName(subnet: Ipv4Cidr): string {
  return `${formatIpv4(subnet.network)}-${subnet.prefix}`;
}

export function parseSubnetKeyName(name: string): Ipv4Cidr | undefined {
  const dash = name.lastIndexOf('-');
  return dash < 0 ? undefined : parseIpv4Cidr(`${name.slice(0, dash)}/${name.slice(dash + 1)}`, { strict: true });
}

/** The lease in flannel's field names: the etcd value, and the source of the Node annotations. */
export function leaseRecord(lease: Lease): { PublicIP: string; BackendType: 'vxlan'; BackendData: { VNI: number; VtepMAC: string } } {
  return { PublicIP: lease.publicIp, BackendType: 'vxlan', BackendData: { VNI: lease.vni, VtepMAC: lease.vtepMac } };
}

export function encodeLeaseValue(lease: Lease): string {
  return JSON.stringify(leaseRecord(lease));
}

/** Decodes a lease; undefined for values that are not usable vxlan leases (another backend, corrupt JSON). */
export function decodeLease(subnet: Ipv4Cidr, value: string): Lease | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    return undefined;
  }
  return leaseFromRecord(subnet, raw);
}

/** The inverse of leaseRecord; undefined for records that are not usable vxlan leases (another backend, bad fields). */
export function leaseFromRecord(subnet: Ipv4Cidr, record: unknown): Lease | undefined {
  const raw = record as any;
  if (typeof raw !== 'object' || raw === null || raw.BackendType !== 'vxlan') return undefined;
  const publicIp = typeof raw.PublicIP === 'string' && parseIpv4(raw.PublicIP) !== undefined ? raw.PublicIP : undefined;
  const data = raw.BackendData ?? {};
  const vtepMac = typeof data.VtepMAC === 'string' ? data.VtepMAC.toLowerCase() : '';
  if (!publicIp || !isMacAddress(vtepMac)) return undefined;
  return { subnet, publicIp, vni: typeof data.VNI === 'number' ? data.VNI : 1, vtepMac };
}

export function leaseId(lease: Lease): string {
  return formatIpv4Cidr(lease.subnet);
}
