import { isInterfaceName, isSafeAbsolutePath } from '../../lib/names.ts';
import { parseIpv4 } from '../../lib/ip.ts';

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
const KUBE_ONLY = ['kubeconfig-file', 'node-name', 'net-config-path'];
// A DNS subdomain, as Kubernetes requires of Node names.
const NODE_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const FLAG = /^--([a-z-]+)(?:=(.*))?$/;

function fail(message: string): never {
  throw new Error(`cannot parse arguments: ${message}`);
}

function port(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65_535) fail(`"--${flag}" must be a port from 1 to 65535, got "${value}"`);
  return n;
}

function absolutePath(value: string, flag: string): string {
  if (!isSafeAbsolutePath(value)) fail(`"--${flag}" must be an absolute path without "..", got "${value}"`);
  return value;
}

export interface WeftdEnv {
  /** Read for NODE_NAME (set from the pod's spec.nodeName in the DaemonSet). */
  env?: Readonly<Record<string, string | undefined>>;
}

export function parseWeftdArgs(argv: readonly string[], options: WeftdEnv = {}): WeftdArgs {
  const args: Omit<WeftdArgs, 'subnetManager'> = { subnetFile: '/run/weft/subnet.env', ipMasq: false, healthzIp: '127.0.0.1', renewIntervalMs: 3600_000 };
  let etcdEndpoints: string[] = [];
  let etcdPrefix: string | undefined;
  let kube = false;
  const kubeFlags = new Map<string, string>();
  for (const arg of argv) {
    const m = FLAG.exec(arg);
    if (!m) fail(`unexpected argument "${arg}"`);
    const [, name, value] = m as unknown as [string, string, string | undefined];
    const need = (): string => (value !== undefined && value !== '' ? value : fail(`"--${name}" needs a value`));
    switch (name) {
      case 'etcd-endpoints':
        etcdEndpoints = need().split(',').map((e) => e.trim()).filter(Boolean);
        for (const e of etcdEndpoints) if (!/^https?:\/\/[^/]+\/?$/.test(e)) fail(`"--etcd-endpoints" entry "${e}" is not an http(s)://host:port URL`);
        break;
      case 'etcd-prefix':
        etcdPrefix = need();
        if (!etcdPrefix.startsWith('/')) fail(`"--etcd-prefix" must start with "/", got "${etcdPrefix}"`);
        break;
      case 'iface':
        args.iface = need();
        if (!isInterfaceName(args.iface)) fail(`"--iface" is not an interface name: "${args.iface}"`);
        break;
      case 'public-ip':
        args.publicIp = need();
        if (parseIpv4(args.publicIp) === undefined) fail(`"--public-ip" is not an IPv4 address: "${args.publicIp}"`);
        break;
      case 'subnet-file':
        args.subnetFile = absolutePath(need(), name);
        break;
      case 'ip-masq':
        args.ipMasq = value === undefined || value === 'true';
        break;
      case 'healthz-ip':
        args.healthzIp = need();
        if (parseIpv4(args.healthzIp) === undefined) fail(`"--healthz-ip" is not an IPv4 address: "${args.healthzIp}"`);
        break;
      case 'healthz-port':
        args.healthzPort = port(need(), name);
        break;
      case 'subnet-lease-renew-interval': {
        const seconds = Number(need());
        if (!Number.isFinite(seconds) || seconds < 1 || seconds > 12 * 3600) fail(`"--${name}" must be 1 to 43200 seconds, got "${value}"`);
        args.renewIntervalMs = seconds * 1000;
        break;
      }
      case 'log-level':
        args.logLevel = need();
        break;
      case 'kube-subnet-mgr':
        kube = value === undefined || value === 'true';
        break;
      case 'kubeconfig-file':
      case 'node-name':
        kubeFlags.set(name, need());
        break;
      case 'net-config-path':
        kubeFlags.set(name, absolutePath(need(), name));
        break;
      default:
        fail(`unknown flag "--${name}"`);
    }
  }
  if (!kube) {
    const misplaced = KUBE_ONLY.find((flag) => kubeFlags.has(flag));
    if (misplaced) fail(`"--${misplaced}" needs "--kube-subnet-mgr"`);
    if (etcdEndpoints.length === 0) fail('"--etcd-endpoints" or "--kube-subnet-mgr" is required');
    return { ...args, subnetManager: { kind: 'etcd', endpoints: etcdEndpoints, prefix: etcdPrefix ?? '/coreos.com/network' } };
  }
  if (etcdEndpoints.length || etcdPrefix !== undefined) fail('"--kube-subnet-mgr" takes no etcd flags: leases come from Node objects');
  const nodeName = kubeFlags.get('node-name') ?? options.env?.NODE_NAME ?? '';
  if (nodeName === '') fail('"--kube-subnet-mgr" needs the node name: set NODE_NAME or "--node-name"');
  if (!NODE_NAME.test(nodeName)) fail(`node name "${nodeName}" is not a valid Node name`);
  const kubeconfigFile = kubeFlags.get('kubeconfig-file');
  return {
    ...args,
    subnetManager: { kind: 'kube', nodeName, netConfigPath: kubeFlags.get('net-config-path') ?? DEFAULT_NET_CONFIG_PATH, ...(kubeconfigFile ? { kubeconfigFile } : {}) },
  };
}
