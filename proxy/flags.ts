import { hostname } from 'node:os';
import { flag, FlagError, parseFlags, type BindAddress } from '../lib/flags.ts';
import { isDnsSubdomain } from '../lib/names.ts';
import type { ProxyMode } from './core/backend.ts';
import { DEFAULT_MASQUERADE_BIT, masqueradeMarkFromBit } from './core/config.ts';

// `weft-proxy [flags]`: the daemon's command line, named as kube-proxy's so a DaemonSet can switch.
// Pure: argv (and the machine's hostname as the default node name) in, a validated value out.
// lib/flags.ts reads them strictly; see there for booleans, numbers and duplicates.

export const DAEMON_USAGE = `usage: weft-proxy [--kubeconfig FILE] [--hostname-override NODE] --cluster-cidr CIDR
         [--proxy-mode iptables|nftables] [--min-sync-period 1s] [--sync-period 1h] [--masquerade-bit 14]
         [--healthz-bind-address 0.0.0.0:10256] [--metrics-bind-address 127.0.0.1:10249]
         [--nodeport-addresses CIDR[,CIDR...]|primary]
       weft-proxy render ...   (print a full sync's iptables payload; see "weft-proxy render --help")
       weft-proxy --cleanup    (remove the rules of both proxy modes, then exit)
  An empty bind address disables that listener.\n`;

export type { BindAddress, ProxyMode };

/** A command line the proxy cannot take; main.ts prints the usage with it. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
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

const DAY_MS = 86_400_000;

/** The flags `weft-proxy` and `weft-proxy render` share, with kube-proxy's names and defaults. */
export const SHARED_PROXY_FLAGS = {
  'proxy-mode': flag.oneOf(['iptables', 'nftables'] as const, { fallback: 'iptables' }),
  'masquerade-bit': flag.integer({ min: 0, max: 31 }, { fallback: DEFAULT_MASQUERADE_BIT }),
  'nodeport-addresses': flag.cidrList({ expectation: 'IPv4 CIDRs separated by commas, or "primary"', allow: ['primary'] }),
};

const DAEMON_FLAGS = {
  ...SHARED_PROXY_FLAGS,
  kubeconfig: flag.string({ expectation: 'a kubeconfig file' }, { empty: true }),
  'hostname-override': flag.string({ expectation: 'a node name' }),
  'cluster-cidr': flag.ipv4Cidr({ required: true }),
  'min-sync-period': flag.duration({ min: 0, max: DAY_MS }, { fallback: 1000 }),
  'sync-period': flag.duration({ min: 1, max: DAY_MS }, { fallback: 3_600_000 }),
  'healthz-bind-address': flag.bindAddress({ host: '0.0.0.0', port: 10256 }),
  'metrics-bind-address': flag.bindAddress({ host: '127.0.0.1', port: 10249 }),
};

/** The lib parser's errors as the proxy's usage errors (main.ts prints the usage for those). */
export function parseProxyFlags<S extends Parameters<typeof parseFlags>[1]>(argv: readonly string[], specs: S): ReturnType<typeof parseFlags<S>> {
  try {
    return parseFlags(argv, specs);
  } catch (error) {
    if (error instanceof FlagError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * The node name: --hostname-override, else the machine's hostname, lower-cased as kube-proxy does;
 * it must then be a valid Node name (a DNS subdomain), or the proxy would match no Node at all.
 */
export function nodeNameOf(override: string, machineHostname: string): string {
  const name = (override || machineHostname).trim().toLowerCase();
  if (!isDnsSubdomain(name)) {
    const source = override ? `"--hostname-override"` : 'the machine\'s hostname';
    throw new UsageError(`cannot use ${source} ${JSON.stringify(override || machineHostname)}: a node name is a DNS subdomain (letters, digits, "-" and ".")`);
  }
  return name;
}

export function parseDaemonFlags(argv: readonly string[], defaultHostname: string = hostname()): DaemonFlags {
  const { values: v } = parseProxyFlags(argv, DAEMON_FLAGS);
  if (v['min-sync-period']! > v['sync-period']!) {
    throw new UsageError(`cannot use "--min-sync-period" ${v['min-sync-period']} ms: it is longer than "--sync-period" ${v['sync-period']} ms`);
  }
  return {
    proxyMode: v['proxy-mode'],
    kubeconfig: v.kubeconfig,
    hostname: nodeNameOf(v['hostname-override'], defaultHostname),
    clusterCidr: v['cluster-cidr']!,
    masqueradeMark: masqueradeMarkFromBit(v['masquerade-bit']!),
    minSyncPeriodMs: v['min-sync-period']!,
    syncPeriodMs: v['sync-period']!,
    ...(v['healthz-bind-address'] ? { healthz: v['healthz-bind-address'] } : {}),
    ...(v['metrics-bind-address'] ? { metrics: v['metrics-bind-address'] } : {}),
    nodePortAddresses: v['nodeport-addresses'],
  };
}
