import { FieldError, mustBe, readBoolean, readInteger } from '../../lib/fields.ts';
import { isObject } from '../../lib/json.ts';
import { ipv4CidrContains, ipv4CidrSize, formatIpv4Cidr, parseIpv4Cidr, parseIpv4, type Ipv4Cidr } from '../../lib/ip.ts';

// The cluster-wide network config stored at <prefix>/config, in flannel's format so an existing
// flannel etcd keeps working. Defaults follow flannel: SubnetLen 24, the first subnet left unused.

export interface BackendConfig {
  type: 'vxlan';
  vni: number;
  port: number;
  /** 0: derive from the uplink (uplink MTU - 50). */
  mtu: number;
  directRouting: boolean;
}

export interface NetworkConfig {
  network: Ipv4Cidr;
  subnetLen: number;
  /** Network address of the lowest and highest subnet a node may lease. */
  subnetMin: number;
  subnetMax: number;
  backend: BackendConfig;
}

export class NetworkConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkConfigError';
  }
}

function fail(field: string, problem: string): never {
  throw new FieldError(field, problem);
}

function integerIn(raw: Record<string, unknown>, field: string, fallback: number, [min, max]: [number, number]): number {
  return readInteger(raw, field, { min, max }) ?? fallback;
}

function subnetBound(raw: Record<string, unknown>, field: string, fallback: number, network: Ipv4Cidr, subnetLen: number): number {
  const value = raw[field];
  if (value === undefined) return fallback;
  const address = typeof value === 'string' ? parseIpv4(value.split('/')[0]!) : undefined;
  if (address === undefined) throw mustBe(field, 'an IPv4 address', value);
  if (!ipv4CidrContains(network, address)) fail(field, `"${value}" is outside the network "${formatIpv4Cidr(network)}"`);
  if (address % ipv4CidrSize(subnetLen) !== 0) fail(field, `"${value}" is not the start of a /${subnetLen} subnet`);
  return address;
}

function parseBackend(raw: unknown): BackendConfig {
  if (raw === undefined) return { type: 'vxlan', vni: 1, port: 8472, mtu: 0, directRouting: false };
  if (!isObject(raw)) throw mustBe('Backend', 'an object', raw);
  if (typeof raw.Type !== 'string' || raw.Type.toLowerCase() !== 'vxlan') throw mustBe('Backend.Type', '"vxlan"', raw.Type);
  const directRouting = readBoolean(raw, 'DirectRouting', 'Backend.DirectRouting') ?? false;
  return {
    type: 'vxlan',
    vni: readInteger(raw, 'VNI', { min: 1, max: 16_777_215 }, 'Backend.VNI') ?? 1,
    port: readInteger(raw, 'Port', { min: 1, max: 65_535 }, 'Backend.Port') ?? 8472,
    mtu: raw.MTU === undefined || raw.MTU === 0 ? 0 : (readInteger(raw, 'MTU', { min: 576, max: 65_535 }, 'Backend.MTU') ?? 0),
    directRouting,
  };
}

/** Parses the JSON text of <prefix>/config; throws NetworkConfigError naming the field. */
export function parseNetworkConfig(text: string): NetworkConfig {
  try {
    return readNetworkConfig(text);
  } catch (error) {
    if (error instanceof FieldError) throw new NetworkConfigError(`invalid network config: ${error.message}`);
    throw error;
  }
}

function readNetworkConfig(text: string): NetworkConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new NetworkConfigError('invalid network config: not valid JSON');
  }
  if (!isObject(raw)) throw mustBe('config', 'a JSON object', raw);
  if (raw.EnableIPv6 === true || raw.IPv6Network !== undefined) fail('IPv6Network', 'is not supported: the overlay is IPv4 only');
  const network = typeof raw.Network === 'string' ? parseIpv4Cidr(raw.Network, { strict: true }) : undefined;
  if (!network) throw mustBe('Network', 'an IPv4 network such as "10.244.0.0/16"', raw.Network);
  const subnetLen = integerIn(raw, 'SubnetLen', 24, [network.prefix + 1, 30]);
  const size = ipv4CidrSize(subnetLen);
  const subnetMin = subnetBound(raw, 'SubnetMin', network.network + size, network, subnetLen);
  const subnetMax = subnetBound(raw, 'SubnetMax', network.network + ipv4CidrSize(network.prefix) - size, network, subnetLen);
  if (subnetMin > subnetMax) fail('SubnetMin', 'must not be above "SubnetMax"');
  return { network, subnetLen, subnetMin, subnetMax, backend: parseBackend(raw.Backend) };
}
