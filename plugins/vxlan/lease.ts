import { formatCidr, formatIPv4, parseCidr, parseIPv4, type Cidr } from './ipv4.ts';

// A node's subnet lease as flannel stores it: key "<prefix>/subnets/10.244.1.0-24", value
// {"PublicIP":"...","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"..."}}.

export interface Lease {
  subnet: Cidr;
  publicIp: string;
  vni: number;
  vtepMac: string;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** The key suffix under <prefix>/subnets/: "10.244.1.0-24". */
export function subnetKeyName(subnet: Cidr): string {
  return `${formatIPv4(subnet.network)}-${subnet.prefix}`;
}

export function parseSubnetKeyName(name: string): Cidr | undefined {
  const dash = name.lastIndexOf('-');
  return dash < 0 ? undefined : parseCidr(`${name.slice(0, dash)}/${name.slice(dash + 1)}`, { strict: true });
}

/** The lease in flannel's field names: the etcd value, and the source of the Node annotations. */
export function leaseRecord(lease: Lease): { PublicIP: string; BackendType: 'vxlan'; BackendData: { VNI: number; VtepMAC: string } } {
  return { PublicIP: lease.publicIp, BackendType: 'vxlan', BackendData: { VNI: lease.vni, VtepMAC: lease.vtepMac } };
}

export function encodeLeaseValue(lease: Lease): string {
  return JSON.stringify(leaseRecord(lease));
}

/** Decodes a lease; undefined for values that are not usable vxlan leases (another backend, corrupt JSON). */
export function decodeLease(subnet: Cidr, value: string): Lease | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    return undefined;
  }
  return leaseFromRecord(subnet, raw);
}

/** The inverse of leaseRecord; undefined for records that are not usable vxlan leases (another backend, bad fields). */
export function leaseFromRecord(subnet: Cidr, record: unknown): Lease | undefined {
  const raw = record as any;
  if (typeof raw !== 'object' || raw === null || raw.BackendType !== 'vxlan') return undefined;
  const publicIp = typeof raw.PublicIP === 'string' && parseIPv4(raw.PublicIP) !== undefined ? raw.PublicIP : undefined;
  const data = raw.BackendData ?? {};
  const vtepMac = typeof data.VtepMAC === 'string' ? data.VtepMAC.toLowerCase() : '';
  if (!publicIp || !MAC.test(vtepMac)) return undefined;
  return { subnet, publicIp, vni: typeof data.VNI === 'number' ? data.VNI : 1, vtepMac };
}

export function leaseId(lease: Lease): string {
  return formatCidr(lease.subnet);
}
