import { FieldError, mustBe, readBoolean, readInteger, readInterfaceName, readObject, readParsed } from '../../lib/fields.ts';
import { isMacAddress } from '../../lib/mac.ts';
import { PLUGIN_NAME } from '../cni/delegate.ts';
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
  return readBoolean(conf, field) ?? false;
}

function parseMac(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const mac = typeof value === 'string' ? value.toLowerCase() : '';
  // A multicast MAC (lowest bit of the first octet) cannot be a unicast interface's address.
  if (!isMacAddress(mac) || (parseInt(mac.slice(0, 2), 16) & 1) === 1) throw mustBe(field, 'a unicast MAC address', value);
  return mac;
}

export function parseBridgeConfig(conf: NetConf, request: Request): BridgeConfig {
  const bridge = readInterfaceName(conf, 'bridge') ?? 'cni0';
  const isDefaultGateway = flag(conf, 'isDefaultGateway');
  // Read even when isDefaultGateway implies it: a value it cannot take is an error either way.
  const isGateway = flag(conf, 'isGateway');
  const hairpinMode = flag(conf, 'hairpinMode');
  const promiscMode = flag(conf, 'promiscMode');
  if (hairpinMode && promiscMode) throw new FieldError('promiscMode', 'cannot be set together with "hairpinMode"');
  const mtu = readInteger(conf, 'mtu', { min: 0, max: 65535 });
  if (mtu !== undefined && mtu !== 0 && mtu < 68) throw mustBe('mtu', '0 or from 68 to 65535', mtu);
  const runtimeConfig = readObject(conf, 'runtimeConfig');
  // Both are checked, though runtimeConfig wins: a MAC the plugin cannot take is an error wherever it is.
  const argsMac = parseMac('CNI_ARGS MAC', request.args.get('MAC'));
  const mac = parseMac('runtimeConfig.mac', runtimeConfig?.mac) ?? argsMac;
  const ipam = readObject(conf, 'ipam');
  const ipamType = ipam && readParsed(ipam, 'type', PLUGIN_NAME, 'ipam.type');
  const dns = readObject(conf, 'dns');
  return {
    name: conf.name,
    bridge,
    isGateway: isDefaultGateway || isGateway,
    isDefaultGateway,
    forceAddress: flag(conf, 'forceAddress'),
    ipMasq: flag(conf, 'ipMasq'),
    ...(mtu ? { mtu } : {}),
    hairpinMode,
    promiscMode,
    vlan: readInteger(conf, 'vlan', { min: 0, max: 4094 }) ?? 0,
    macspoofchk: flag(conf, 'macspoofchk'),
    ...(ipamType ? { ipamType } : {}),
    ...(mac ? { mac } : {}),
    ...(dns ? { dns: dns as DNS } : {}),
  };
}
