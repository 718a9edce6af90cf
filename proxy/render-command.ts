import { flag } from '../lib/flags.ts';
import { masqueradeMarkFromBit, type ProxyConfig } from './core/config.ts';
import { buildProxyState } from './core/state.ts';
import { nodeNameOf, parseProxyFlags, SHARED_PROXY_FLAGS, UsageError, type ProxyMode } from './flags.ts';
import { renderIptables } from './iptables/render.ts';
import { buildNftTable } from './nftables/render.ts';
import { renderFullSync } from './nftables/table.ts';
import { loadObjectsFile } from './load-objects.ts';
import type { Logger } from '../lib/log.ts';

// `weft-proxy render`: prints the payload a full sync would apply on a clean node: for iptables the
// iptables-restore text, jumps from the built-in chains included, so `iptables-restore --noflush`
// gives a working data plane; for nftables the `nft -f` text that replaces the `ip weft` table.

export const RENDER_USAGE = `usage: weft-proxy render --hostname-override NODE --cluster-cidr CIDR --objects FILE
         [--node-ip IP] [--masquerade-bit N] [--nodeport-addresses CIDR[,CIDR...]|primary]
         [--proxy-mode iptables|nftables]
  FILE is what \`kubectl get services,endpointslices,nodes -A -o yaml\` (or -o json) prints; a FIFO works too.\n`;

export { UsageError };
export type { ProxyMode };

export interface RenderArgs {
  readonly mode: ProxyMode;
  readonly objects: string;
  readonly config: Omit<ProxyConfig, 'nodePortAddresses'>;
  readonly nodeIP?: string;
  /** CIDRs, or ['primary'] for the node's own addresses. */
  readonly nodePortAddresses: readonly string[];
}

const RENDER_FLAGS = {
  ...SHARED_PROXY_FLAGS,
  'hostname-override': flag.string({ expectation: 'a node name' }, { required: true }),
  'cluster-cidr': flag.ipv4Cidr({ required: true }),
  objects: flag.string({ expectation: 'a file of Kubernetes objects' }, { required: true }),
  'node-ip': flag.ipv4(),
};

export function parseRenderArgs(argv: string[]): RenderArgs {
  const { values: v } = parseProxyFlags(argv, RENDER_FLAGS);
  return {
    mode: v['proxy-mode'],
    objects: v.objects,
    config: { hostname: nodeNameOf(v['hostname-override'], ''), clusterCidr: v['cluster-cidr']!, masqueradeMark: masqueradeMarkFromBit(v['masquerade-bit']!) },
    ...(v['node-ip'] ? { nodeIP: v['node-ip'] } : {}),
    nodePortAddresses: v['nodeport-addresses'],
  };
}

export function runRender(args: RenderArgs, log: Logger): string {
  const objects = loadObjectsFile(args.objects, args.config.hostname, log);
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
