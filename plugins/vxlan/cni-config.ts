import { isPlainName, isSafeAbsolutePath } from '../../lib/names.ts';
import { invalidConfig } from '../cni/errors.ts';
import type { NetConf } from '../cni/types.ts';
import { formatIpv4Cidr } from '../../lib/ip.ts';
import type { SubnetEnv } from './subnet-file.ts';

// weft-vxlan's config (the keys of flannel's CNI plugin) and the delegate config it builds from the
// subnet file: a bridge with host-local IPAM over this node's subnet.

export interface VxlanCniConfig {
  subnetFile: string;
  dataDir: string;
  /** Keys merged over the built delegate config ("type", "bridge", "hairpinMode", ...). */
  delegate: Readonly<Record<string, unknown>>;
}

function absolutePath(conf: NetConf, key: string, fallback: string): string {
  const value = conf[key] ?? fallback;
  if (typeof value !== 'string' || !isSafeAbsolutePath(value)) throw invalidConfig(key, 'must be an absolute path without ".."');
  return value;
}

export function parseVxlanCniConfig(conf: NetConf): VxlanCniConfig {
  const delegate = conf.delegate ?? {};
  if (typeof delegate !== 'object' || delegate === null || Array.isArray(delegate)) throw invalidConfig('delegate', 'must be an object');
  const type = (delegate as Record<string, unknown>).type;
  if (type !== undefined && (typeof type !== 'string' || !isPlainName(type))) throw invalidConfig('delegate.type', 'must be a plugin name');
  return {
    subnetFile: absolutePath(conf, 'subnetFile', '/run/weft/subnet.env'),
    dataDir: absolutePath(conf, 'dataDir', '/var/lib/cni/weft-vxlan'),
    delegate: delegate as Record<string, unknown>,
  };
}

/** The delegate's network config, as flannel builds it (ipMasq is the daemon's negated: one of them masquerades). */
export function buildDelegateConf(conf: NetConf, config: VxlanCniConfig, subnet: SubnetEnv): Record<string, unknown> {
  const defaults: Record<string, unknown> = {
    type: 'weft-bridge',
    bridge: 'cni0',
    isGateway: true,
    isDefaultGateway: true,
    ipMasq: !subnet.ipMasq,
    mtu: subnet.mtu,
  };
  const ipam = {
    type: 'weft-host-local',
    ranges: [[{ subnet: formatIpv4Cidr(subnet.subnet) }]],
    routes: [{ dst: formatIpv4Cidr(subnet.network) }],
    ...((config.delegate.ipam as Record<string, unknown> | undefined) ?? {}),
  };
  return { ...defaults, ...config.delegate, ipam, name: conf.name, cniVersion: conf.cniVersion };
}
