import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_MASQUERADE_BIT, masqueradeMarkFromBit } from './core/config.ts';
import { parseIpv4, parseIpv4Cidr } from '../lib/ip.ts';
import { parseProxyMode, UsageError, type ProxyMode } from './render-command.ts';

// `weft-proxy [flags]`: the daemon's command line, named as kube-proxy's so a DaemonSet can switch.
// Pure: argv (and the machine's hostname as the default node name) in, a validated value out.

export const DAEMON_USAGE = `usage: weft-proxy [--kubeconfig FILE] [--hostname-override NODE] --cluster-cidr CIDR
         [--proxy-mode iptables|nftables] [--min-sync-period 1s] [--sync-period 1h] [--masquerade-bit 14]
         [--healthz-bind-address 0.0.0.0:10256] [--metrics-bind-address 127.0.0.1:10249]
         [--nodeport-addresses CIDR[,CIDR...]|primary]
       weft-proxy render ...   (print a full sync's iptables payload; see "weft-proxy render --help")
  An empty bind address disables that listener.\n`;

export interface BindAddress {
  readonly host: string;
  readonly port: number;
}

export interface DaemonFlags {
  readonly proxyMode: ProxyMode;
  /** Empty: in-cluster credentials, else $KUBECONFIG / ~/.kube/config. */
  readonly kubeconfig: string;
  readonly hostname: string;
  /** Pod addresses (required: the renderer tells pod traffic from off-cluster traffic by it). */
  readonly clusterCidr: string;
  readonly masqueradeMark: number;
  readonly minSyncPeriodMs: number;
  readonly syncPeriodMs: number;
  readonly healthz?: BindAddress;
  readonly metrics?: BindAddress;
  /** CIDRs, or 'primary' for the Node's own addresses. */
  readonly nodePortAddresses: readonly string[];
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration as kube-proxy takes it: "1s", "500ms", "1h30m", "0s". */
export function parseDuration(text: string, flag: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new UsageError(`cannot parse "--${flag}": "${text}" is not a duration such as 1s, 500ms, 1h`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] as string] as number), 0);
}

export function parseBindAddress(text: string, flag: string): BindAddress | undefined {
  if (text === '') return undefined;
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || parseIpv4(m[1] as string) === undefined || port < 1 || port > 65535) throw new UsageError(`cannot parse "--${flag}": "${text}" is not IPv4:PORT (or empty to disable)`);
  return { host: m[1] as string, port };
}

export function parseDaemonFlags(argv: readonly string[], defaultHostname: string = hostname()): DaemonFlags {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      kubeconfig: { type: 'string', default: '' },
      'hostname-override': { type: 'string', default: '' },
      'cluster-cidr': { type: 'string', default: '' },
      'proxy-mode': { type: 'string', default: 'iptables' },
      'min-sync-period': { type: 'string', default: '1s' },
      'sync-period': { type: 'string', default: '1h' },
      'masquerade-bit': { type: 'string', default: String(DEFAULT_MASQUERADE_BIT) },
      'healthz-bind-address': { type: 'string', default: '0.0.0.0:10256' },
      'metrics-bind-address': { type: 'string', default: '127.0.0.1:10249' },
      'nodeport-addresses': { type: 'string', default: '' },
    },
    strict: true,
    allowPositionals: false,
  });
  const proxyMode = parseProxyMode(values['proxy-mode']);
  const clusterCidr = values['cluster-cidr'];
  if (clusterCidr === '') throw new UsageError('cannot start: option "--cluster-cidr" is required');
  if (parseIpv4Cidr(clusterCidr) === undefined) throw new UsageError(`cannot parse "--cluster-cidr": "${clusterCidr}" is not an IPv4 CIDR`);
  const nodePortAddresses = values['nodeport-addresses'].split(',').filter(Boolean);
  for (const a of nodePortAddresses) if (a !== 'primary' && parseIpv4Cidr(a) === undefined) throw new UsageError(`cannot parse "--nodeport-addresses": entry "${a}" is not a CIDR or "primary"`);
  let masqueradeMark: number;
  try {
    masqueradeMark = masqueradeMarkFromBit(Number(values['masquerade-bit']));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const minSyncPeriodMs = parseDuration(values['min-sync-period'], 'min-sync-period');
  const syncPeriodMs = parseDuration(values['sync-period'], 'sync-period');
  if (syncPeriodMs <= 0) throw new UsageError(`cannot use "--sync-period ${values['sync-period']}": must be greater than 0`);
  const node = values['hostname-override'] || defaultHostname;
  const healthz = parseBindAddress(values['healthz-bind-address'], 'healthz-bind-address');
  const metrics = parseBindAddress(values['metrics-bind-address'], 'metrics-bind-address');
  return {
    proxyMode,
    kubeconfig: values.kubeconfig,
    hostname: node.toLowerCase(),
    clusterCidr,
    masqueradeMark,
    minSyncPeriodMs,
    syncPeriodMs,
    ...(healthz ? { healthz } : {}),
    ...(metrics ? { metrics } : {}),
    nodePortAddresses,
  };
}
