import { flag, FlagError, parseFlags } from '../../lib/flags.ts';
import { isDnsSubdomain } from '../../lib/names.ts';

// weftd's command line, flannel's flag names where they exist.

/** Where leases come from: flannel-style keys in etcd, or Node objects (--kube-subnet-mgr). */
export type SubnetManagerChoice =
  | { kind: 'etcd'; endpoints: string[]; prefix: string }
  | {
      kind: 'kube';
      nodeName: string;
      /** Unset: in-cluster service account credentials (or the default kubeconfig outside a pod). */
      kubeconfigFile?: string;
      /** The network config (flannel's net-conf.json) that etcd mode reads from <prefix>/config. */
      netConfigPath: string;
    };

export interface WeftdArgs {
  subnetManager: SubnetManagerChoice;
  iface?: string;
  publicIp?: string;
  subnetFile: string;
  ipMasq: boolean;
  /** Where the health check listens; only used with healthzPort. */
  healthzIp: string;
  healthzPort?: number;
  renewIntervalMs: number;
  logLevel?: string;
}

export const WEFTD_USAGE = `usage: weftd (--etcd-endpoints=URL[,URL] [--etcd-prefix=/coreos.com/network]
              | --kube-subnet-mgr [--kubeconfig-file=PATH] [--node-name=NAME] [--net-config-path=/etc/weft/net-conf.json])
             (--iface=IFNAME | --public-ip=IP) [--subnet-file=/run/weft/subnet.env] [--ip-masq] [--healthz-ip=127.0.0.1] [--healthz-port=N]
             [--subnet-lease-renew-interval=SECONDS] [--log-level=debug|info|warn|error]
  With --kube-subnet-mgr the node name defaults to $NODE_NAME and credentials to the pod's service account.
`;

const DEFAULT_NET_CONFIG_PATH = '/etc/weft/net-conf.json';
const KUBE_ONLY = ['kubeconfig-file', 'node-name', 'net-config-path'] as const;
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

const WEFTD_FLAGS = {
  'etcd-endpoints': flag.endpointUrls(),
  'etcd-prefix': flag.string({ expectation: 'an etcd key prefix starting with "/"', parse: (t) => (/^\/[\x21-\x7e]*$/.test(t) ? t : undefined) }, { fallback: '/coreos.com/network' }),
  iface: flag.interfaceName(),
  'public-ip': flag.ipv4(),
  'subnet-file': flag.absolutePath({ fallback: '/run/weft/subnet.env' }),
  'ip-masq': flag.boolean(),
  'healthz-ip': flag.ipv4({ fallback: '127.0.0.1' }),
  'healthz-port': flag.integer({ min: 1, max: 65_535 }),
  'subnet-lease-renew-interval': flag.integer({ min: 1, max: 12 * 3600 }, { fallback: 3600 }),
  'log-level': flag.oneOf(LOG_LEVELS, { fallback: 'info' }),
  'kube-subnet-mgr': flag.boolean(),
  'kubeconfig-file': flag.absolutePath(),
  'node-name': flag.nodeName(),
  'net-config-path': flag.absolutePath({ fallback: DEFAULT_NET_CONFIG_PATH }),
};

export interface WeftdEnv {
  /** Read for NODE_NAME (set from the pod's spec.nodeName in the DaemonSet). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Parses weftd's flags (lib/flags.ts: strict booleans and numbers, no duplicates); throws FlagError naming the flag. */
export function parseWeftdArgs(argv: readonly string[], options: WeftdEnv = {}): WeftdArgs {
  const { values: v, given } = parseFlags(argv, WEFTD_FLAGS);
  const args: Omit<WeftdArgs, 'subnetManager'> = {
    subnetFile: v['subnet-file']!,
    ipMasq: v['ip-masq'],
    healthzIp: v['healthz-ip']!,
    renewIntervalMs: v['subnet-lease-renew-interval']! * 1000,
    ...(v.iface !== undefined ? { iface: v.iface } : {}),
    ...(v['public-ip'] !== undefined ? { publicIp: v['public-ip'] } : {}),
    ...(v['healthz-port'] !== undefined ? { healthzPort: v['healthz-port'] } : {}),
    ...(given.has('log-level') ? { logLevel: v['log-level'] } : {}),
  };
  if (!v['kube-subnet-mgr']) {
    const misplaced = KUBE_ONLY.find((name) => given.has(name));
    if (misplaced) throw new FlagError(`cannot use "--${misplaced}": it needs "--kube-subnet-mgr"`);
    if (v['etcd-endpoints'].length === 0) throw new FlagError('cannot start: "--etcd-endpoints" or "--kube-subnet-mgr" is required');
    return { ...args, subnetManager: { kind: 'etcd', endpoints: v['etcd-endpoints'], prefix: v['etcd-prefix'] } };
  }
  if (given.has('etcd-endpoints') || given.has('etcd-prefix')) throw new FlagError('cannot use etcd flags with "--kube-subnet-mgr": leases come from Node objects');
  const nodeName = v['node-name'] ?? options.env?.NODE_NAME ?? '';
  if (nodeName === '') throw new FlagError('cannot start: "--kube-subnet-mgr" needs the node name: set NODE_NAME or "--node-name"');
  if (!isDnsSubdomain(nodeName)) throw new FlagError(`cannot use NODE_NAME "${nodeName}": not a valid Node name (a lower-case DNS subdomain)`);
  const kubeconfigFile = v['kubeconfig-file'];
  return {
    ...args,
    subnetManager: { kind: 'kube', nodeName, netConfigPath: v['net-config-path']!, ...(kubeconfigFile ? { kubeconfigFile } : {}) },
  };
}
