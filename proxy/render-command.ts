import { parseArgs } from 'node:util';
import type { ProxyMode } from './core/backend.ts';
import { DEFAULT_MASQUERADE_BIT, masqueradeMarkFromBit, type ProxyConfig } from './core/config.ts';
import { buildProxyState } from './core/state.ts';
import { renderIptables } from './iptables/render.ts';
import { buildNftTable } from './nftables/render.ts';
import { renderFullSync } from './nftables/table.ts';
import { loadObjectsFile } from './load-objects.ts';
import { parseIpv4, parseIpv4Cidr } from '../lib/ip.ts';
import type { Logger } from '../lib/log.ts';

// `weft-proxy render`: prints the payload a full sync would apply on a clean node: for iptables the
// iptables-restore text, jumps from the built-in chains included, so `iptables-restore --noflush`
// gives a working data plane; for nftables the `nft -f` text that replaces the `ip weft` table.

export const RENDER_USAGE = `usage: weft-proxy render --hostname-override NODE --cluster-cidr CIDR --objects FILE
         [--node-ip IP] [--masquerade-bit N] [--nodeport-addresses CIDR[,CIDR...]|primary]
         [--proxy-mode iptables|nftables]\n`;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type { ProxyMode };

export function parseProxyMode(text: string): ProxyMode {
  if (text === 'iptables' || text === 'nftables') return text;
  throw new UsageError(`cannot use "--proxy-mode ${text}": only "iptables" and "nftables" are supported`);
}

export interface RenderArgs {
  readonly mode: ProxyMode;
  readonly objects: string;
  readonly config: Omit<ProxyConfig, 'nodePortAddresses'>;
  readonly nodeIP?: string;
  /** CIDRs, or ['primary'] for the node's own addresses. */
  readonly nodePortAddresses: readonly string[];
}

export function parseRenderArgs(argv: string[]): RenderArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      'hostname-override': { type: 'string' },
      'cluster-cidr': { type: 'string' },
      objects: { type: 'string' },
      'node-ip': { type: 'string' },
      'masquerade-bit': { type: 'string' },
      'nodeport-addresses': { type: 'string' },
      'proxy-mode': { type: 'string', default: 'iptables' },
    },
    strict: true,
  });
  const need = (name: 'hostname-override' | 'cluster-cidr' | 'objects'): string => {
    const value = values[name];
    if (!value) throw new UsageError(`cannot render: option "--${name}" is required`);
    return value;
  };
  const clusterCidr = need('cluster-cidr');
  if (parseIpv4Cidr(clusterCidr) === undefined) throw new UsageError(`cannot render: "--cluster-cidr" must be an IPv4 CIDR, got "${clusterCidr}"`);
  const nodeIP = values['node-ip'];
  if (nodeIP !== undefined && parseIpv4(nodeIP) === undefined) throw new UsageError(`cannot render: "--node-ip" must be an IPv4 address, got "${nodeIP}"`);
  const nodePortAddresses = (values['nodeport-addresses'] ?? '').split(',').filter(Boolean);
  for (const a of nodePortAddresses) if (a !== 'primary' && parseIpv4Cidr(a) === undefined) throw new UsageError(`cannot render: "--nodeport-addresses" entry "${a}" is not a CIDR or "primary"`);
  const bit = Number(values['masquerade-bit'] ?? DEFAULT_MASQUERADE_BIT);
  let masqueradeMark: number;
  try {
    masqueradeMark = masqueradeMarkFromBit(bit);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  return { mode: parseProxyMode(values['proxy-mode']), objects: need('objects'), config: { hostname: need('hostname-override'), clusterCidr, masqueradeMark }, ...(nodeIP ? { nodeIP } : {}), nodePortAddresses };
}

export function runRender(args: RenderArgs, log: Logger): string {
  const objects = loadObjectsFile(args.objects);
  const node = objects.nodes.find((n) => n.name === args.config.hostname);
  const nodeIPs = args.nodeIP ? [args.nodeIP] : (node?.addresses ?? []);
  const primary = args.nodePortAddresses.includes('primary');
  if (primary && nodeIPs.length === 0) throw new UsageError(`cannot use "--nodeport-addresses primary": node "${args.config.hostname}" has no address and no "--node-ip" was given`);
  const nodePortAddresses = args.nodePortAddresses.flatMap((a) => (a === 'primary' ? nodeIPs.map((ip) => `${ip}/32`) : [a]));
  const config: ProxyConfig = { ...args.config, nodePortAddresses };
  const state = buildProxyState(objects, config);
  for (const s of state.skipped) log.warn('service port skipped', { service: s.service, reason: s.reason });
  log.info('rendered', { servicePorts: state.servicePorts.length, ipFamily: 'IPv4' });
  return args.mode === 'nftables' ? renderFullSync(buildNftTable(state, config)) : renderIptables(state, config);
}
