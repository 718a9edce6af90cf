import { formatIpv4, type Ipv4Cidr } from '../../lib/ip.ts';

// The VXLAN device as flannel makes it: nolearning (peers are programmed, never learnt), the subnet's
// network address as a /32 (so traffic the node itself sends to a remote subnet leaves from an
// address inside the cluster network), MTU = uplink MTU - 50 (the VXLAN+UDP+IP+Ethernet overhead).

export const VXLAN_OVERHEAD = 50;

export interface DeviceSpec {
  name: string;
  vni: number;
  port: number;
  /** Source address of the encapsulated packets: the node's public IP. */
  local: string;
  uplink: string;
  mac: string;
  mtu: number;
  subnet: Ipv4Cidr;
}

/** What `ip -d -j link show` and `ip -j addr show` report, reduced to what we compare. */
export interface LinkState {
  kind?: string;
  vni?: number;
  local?: string;
  port?: number;
  learning?: boolean;
  mac?: string;
  mtu?: number;
  up: boolean;
  addresses: string[];
}

/** Why an existing device cannot be kept and must be recreated, or undefined when it can be. */
export function recreateReason(state: LinkState, spec: DeviceSpec): string | undefined {
  if (state.kind !== 'vxlan') return `it is a "${state.kind ?? 'unknown'}" device`;
  if (state.vni !== spec.vni) return `its VNI is "${state.vni}"`;
  if (state.local !== spec.local) return `its local address is "${state.local}"`;
  if (state.port !== spec.port) return `its port is "${state.port}"`;
  if (state.learning !== false) return 'it learns addresses';
  return undefined;
}

function addressOf(spec: DeviceSpec): string {
  return `${formatIpv4(spec.subnet.network)}/32`;
}

/** `ip -batch` lines bringing the device to the spec from `state` (undefined: absent or to be recreated). */
export function planDevice(spec: DeviceSpec, state: LinkState | undefined): string[] {
  const lines: string[] = [];
  if (!state) {
    lines.push(`link add ${spec.name} type vxlan id ${spec.vni} local ${spec.local} dev ${spec.uplink} dstport ${spec.port} nolearning`);
  }
  if (!state || state.mac !== spec.mac || state.mtu !== spec.mtu) lines.push(`link set ${spec.name} address ${spec.mac} mtu ${spec.mtu}`);
  const wanted = addressOf(spec);
  for (const address of state?.addresses ?? []) if (address !== wanted) lines.push(`addr del ${address} dev ${spec.name}`);
  if (!state?.addresses.includes(wanted)) lines.push(`addr add ${wanted} dev ${spec.name}`);
  if (!state?.up) lines.push(`link set ${spec.name} up`);
  return lines;
}
