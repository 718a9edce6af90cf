import { parseIPv4 } from './ipv4.ts';

// weftd's command line, flannel's flag names where they exist.

export interface WeftdArgs {
  etcdEndpoints: string[];
  etcdPrefix: string;
  iface?: string;
  publicIp?: string;
  subnetFile: string;
  ipMasq: boolean;
  healthzPort?: number;
  renewIntervalMs: number;
  logLevel?: string;
}

export const WEFTD_USAGE = `usage: weftd --etcd-endpoints=URL[,URL] [--etcd-prefix=/coreos.com/network] (--iface=IFNAME | --public-ip=IP)
             [--subnet-file=/run/weft/subnet.env] [--ip-masq] [--healthz-port=N] [--subnet-lease-renew-interval=SECONDS]
             [--log-level=debug|info|warn|error]
  --kube-subnet-mgr is not available yet: use etcd.
`;

const FLAG = /^--([a-z-]+)(?:=(.*))?$/;

function fail(message: string): never {
  throw new Error(`cannot parse arguments: ${message}`);
}

function port(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65_535) fail(`"--${flag}" must be a port from 1 to 65535, got "${value}"`);
  return n;
}

export function parseWeftdArgs(argv: readonly string[]): WeftdArgs {
  const args: WeftdArgs = { etcdEndpoints: [], etcdPrefix: '/coreos.com/network', subnetFile: '/run/weft/subnet.env', ipMasq: false, renewIntervalMs: 3600_000 };
  for (const arg of argv) {
    const m = FLAG.exec(arg);
    if (!m) fail(`unexpected argument "${arg}"`);
    const [, name, value] = m as unknown as [string, string, string | undefined];
    const need = (): string => (value !== undefined && value !== '' ? value : fail(`"--${name}" needs a value`));
    switch (name) {
      case 'etcd-endpoints':
        args.etcdEndpoints = need().split(',').map((e) => e.trim()).filter(Boolean);
        for (const e of args.etcdEndpoints) if (!/^https?:\/\/[^/]+\/?$/.test(e)) fail(`"--etcd-endpoints" entry "${e}" is not an http(s)://host:port URL`);
        break;
      case 'etcd-prefix':
        args.etcdPrefix = need();
        if (!args.etcdPrefix.startsWith('/')) fail(`"--etcd-prefix" must start with "/", got "${args.etcdPrefix}"`);
        break;
      case 'iface':
        args.iface = need();
        if (!/^[^/:\s]{1,15}$/.test(args.iface)) fail(`"--iface" is not an interface name: "${args.iface}"`);
        break;
      case 'public-ip':
        args.publicIp = need();
        if (parseIPv4(args.publicIp) === undefined) fail(`"--public-ip" is not an IPv4 address: "${args.publicIp}"`);
        break;
      case 'subnet-file':
        args.subnetFile = need();
        if (!args.subnetFile.startsWith('/') || args.subnetFile.split('/').includes('..')) fail(`"--subnet-file" must be an absolute path without "..", got "${args.subnetFile}"`);
        break;
      case 'ip-masq':
        args.ipMasq = value === undefined || value === 'true';
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
        fail('"--kube-subnet-mgr" is not implemented yet: use --etcd-endpoints');
      default:
        fail(`unknown flag "--${name}"`);
    }
  }
  if (args.etcdEndpoints.length === 0) fail('"--etcd-endpoints" is required');
  return args;
}
