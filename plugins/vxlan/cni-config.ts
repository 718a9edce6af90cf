import { ABSOLUTE_PATH, readObject, readParsed } from '../../lib/fields.ts';
import { PLUGIN_NAME } from '../cni/delegate.ts';
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

export function parseVxlanCniConfig(conf: NetConf): VxlanCniConfig {
  const delegate = readObject(conf, 'delegate') ?? {};
  readParsed(delegate, 'type', PLUGIN_NAME, 'delegate.type');
  readObject(delegate, 'ipam', 'delegate.ipam');
  return {
    subnetFile: readParsed(conf, 'subnetFile', ABSOLUTE_PATH) ?? '/run/weft/subnet.env',
    dataDir: readParsed(conf, 'dataDir', ABSOLUTE_PATH) ?? '/var/lib/cni/weft-vxlan',
    delegate,
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
