import { isInterfaceName } from '../../lib/names.ts';
import { isMacAddress } from '../../lib/mac.ts';
import { invalidConfig } from '../cni/errors.ts';
import type { Request } from '../cni/request.ts';
import type { DNS, NetConf } from '../cni/types.ts';

// The reference bridge plugin's keys and defaults, validated once; a bad value is code 7 naming the field.

export interface BridgeConfig {
  readonly name: string;
  readonly bridge: string;
  readonly isGateway: boolean;
  readonly isDefaultGateway: boolean;
  readonly forceAddress: boolean;
  readonly ipMasq: boolean;
  /** Absent: the kernel default (1500). */
  readonly mtu?: number;
  readonly hairpinMode: boolean;
  readonly promiscMode: boolean;
  /** 0: no VLAN filtering. */
  readonly vlan: number;
  readonly macspoofchk: boolean;
  /** Absent for a layer-2-only network. */
  readonly ipamType?: string;
  /** The pod interface's MAC asked for by the runtime (CNI_ARGS MAC= or runtimeConfig.mac). */
  readonly mac?: string;
  readonly dns?: DNS;
}


function flag(conf: NetConf, field: string): boolean {
  const value = conf[field];
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalidConfig(field, `must be true or false, not ${JSON.stringify(value)}`);
  return value;
}

function integer(conf: NetConf, field: string, min: number, max: number): number | undefined {
  const value = conf[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidConfig(field, `must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
  }
  return value;
}

function parseMac(field: string, value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  const mac = typeof value === 'string' ? value.toLowerCase() : '';
  // A multicast MAC (lowest bit of the first octet) cannot be a unicast interface's address.
  if (!isMacAddress(mac) || (parseInt(mac.slice(0, 2), 16) & 1) === 1) throw invalidConfig(field, `must be a unicast MAC address, not ${JSON.stringify(value)}`);
  return mac;
}

function parseIpamType(conf: NetConf): string | undefined {
  if (conf.ipam === undefined) return undefined;
  if (typeof conf.ipam !== 'object' || conf.ipam === null || Array.isArray(conf.ipam)) throw invalidConfig('ipam', 'must be an object');
  if (conf.ipam.type === undefined || conf.ipam.type === '') return undefined;
  if (typeof conf.ipam.type !== 'string') throw invalidConfig('ipam.type', 'must be a plugin name');
  return conf.ipam.type;
}

export function parseBridgeConfig(conf: NetConf, request: Request): BridgeConfig {
  const bridge = conf.bridge ?? 'cni0';
  if (typeof bridge !== 'string' || !isInterfaceName(bridge)) {
    throw invalidConfig('bridge', `must be an interface name of 1 to 15 characters, not ${JSON.stringify(bridge)}`);
  }
  const isDefaultGateway = flag(conf, 'isDefaultGateway');
  const hairpinMode = flag(conf, 'hairpinMode');
  const promiscMode = flag(conf, 'promiscMode');
  if (hairpinMode && promiscMode) throw invalidConfig('promiscMode', 'cannot be set together with "hairpinMode"');
  const mtu = integer(conf, 'mtu', 0, 65535);
  if (mtu !== undefined && mtu !== 0 && mtu < 68) throw invalidConfig('mtu', `must be 0 or at least 68, not ${mtu}`);
  const runtimeMac = conf.runtimeConfig?.mac;
  const mac = parseMac('runtimeConfig.mac', runtimeMac) ?? parseMac('CNI_ARGS MAC', request.args.get('MAC'));
  const ipamType = parseIpamType(conf);
  return {
    name: conf.name,
    bridge,
    isGateway: isDefaultGateway || flag(conf, 'isGateway'),
    isDefaultGateway,
    forceAddress: flag(conf, 'forceAddress'),
    ipMasq: flag(conf, 'ipMasq'),
    ...(mtu ? { mtu } : {}),
    hairpinMode,
    promiscMode,
    vlan: integer(conf, 'vlan', 0, 4094) ?? 0,
    macspoofchk: flag(conf, 'macspoofchk'),
    ...(ipamType ? { ipamType } : {}),
    ...(mac ? { mac } : {}),
    ...(conf.dns && typeof conf.dns === 'object' ? { dns: conf.dns } : {}),
  };
}
