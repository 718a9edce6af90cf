import { ipv4CidrContains, parseIpv4, parseIpv4Cidr } from '../../lib/ip.ts';
import { findLink, sysctl, type KernelState, type RouteState, type RuleState } from '../state/kernel-state.ts';

// The kernel's routing decision, computed from the routes and rules it listed: rules by priority,
// the longest matching prefix of each table they point at (lowest metric first), as fib_lookup does.
// Also the two input checks that drop forwarded packets silently: forwarding and reverse-path filtering.

export interface RouteChoice {
  /** "local", "unicast", "broadcast", "blackhole", "unreachable", "prohibit", or "none" without a route. */
  readonly type: string;
  readonly route?: RouteState;
  readonly dev?: string;
  readonly gateway?: string;
}

export interface RouteQuery {
  readonly dst: string;
  readonly src?: string;
  /** Incoming device; undefined for the node's own packets. */
  readonly iif?: string;
  readonly mark?: number;
}

function prefixOf(dst: string): { network: number; prefix: number } | undefined {
  if (dst === 'default') return { network: 0, prefix: 0 };
  return parseIpv4Cidr(dst.includes('/') ? dst : `${dst}/32`);
}

function contains(cidr: string | undefined, ip: string | undefined): boolean {
  if (cidr === undefined) return true;
  const block = prefixOf(cidr);
  const address = ip === undefined ? undefined : parseIpv4(ip);
  return block !== undefined && address !== undefined && ipv4CidrContains(block, address);
}

function ruleMatches(rule: RuleState, query: RouteQuery): boolean {
  let ok = contains(rule.src, query.src) && contains(rule.dst, query.dst);
  if (rule.iif !== undefined) ok &&= rule.iif === (query.iif ?? 'lo');
  if (rule.fwmark !== undefined) {
    const [value = 0, mask = 0xffffffff] = rule.fwmark.split('/').map(Number);
    ok &&= (((query.mark ?? 0) & mask) >>> 0) === value;
  }
  return rule.not ? !ok : ok;
}

/** Without an `ip rule` listing the kernel's three default rules apply. */
const DEFAULT_RULES: readonly RuleState[] = [
  { priority: 0, table: 'local', not: false },
  { priority: 32766, table: 'main', not: false },
  { priority: 32767, table: 'default', not: false },
];

function lookupTable(routes: readonly RouteState[], table: string, dst: string): RouteState | undefined {
  const address = parseIpv4(dst);
  if (address === undefined) return undefined;
  let best: { route: RouteState; prefix: number } | undefined;
  for (const route of routes) {
    if (route.table !== table || route.type === 'multicast' || route.type === 'anycast') continue;
    const block = prefixOf(route.dst);
    if (!block || !ipv4CidrContains(block, address)) continue;
    if (!best || block.prefix > best.prefix || (block.prefix === best.prefix && route.metric < best.route.metric)) best = { route, prefix: block.prefix };
  }
  return best?.route;
}

export function lookupRoute(kernel: KernelState, query: RouteQuery): RouteChoice {
  const rules = kernel.rules.length > 0 ? [...kernel.rules].sort((a, b) => a.priority - b.priority) : DEFAULT_RULES;
  for (const rule of rules) {
    if (!ruleMatches(rule, query)) continue;
    const route = lookupTable(kernel.routes, rule.table, query.dst);
    if (!route || route.type === 'throw') continue;
    return { type: route.type, route, ...(route.dev ? { dev: route.dev } : {}), ...(route.gateway ? { gateway: route.gateway } : {}) };
  }
  return { type: 'none' };
}

/** A route as `ip route` prints it, with its table when not main. */
export function formatRoute(route: RouteState): string {
  const type = route.type === 'unicast' ? '' : `${route.type} `;
  const via = route.gateway ? ` via ${route.gateway}` : '';
  const dev = route.dev ? ` dev ${route.dev}` : '';
  const onlink = route.onlink ? ' onlink' : '';
  const table = route.table === 'main' ? '' : ` table ${route.table}`;
  return `${type}${route.dst}${via}${dev}${onlink}${table}`;
}

export function isLocalAddress(kernel: KernelState, ip: string): boolean {
  return lookupTable(kernel.routes, 'local', ip)?.type === 'local';
}

/** The source address the kernel picks leaving through `dev` towards `dst`: the route's prefsrc, else the device's first address. */
export function sourceAddressFor(kernel: KernelState, dev: string | undefined, dst: string): string | undefined {
  const choice = lookupRoute(kernel, { dst });
  if (choice.route?.prefsrc && (dev === undefined || choice.dev === dev)) return choice.route.prefsrc;
  return findLink(kernel, dev ?? choice.dev)?.addresses[0]?.ip;
}

/** IPv4 forwarding for packets arriving on `iif` (net.ipv4.ip_forward sets every device's value). */
export function forwardingOn(kernel: KernelState, iif: string): { on: boolean; key: string } {
  const key = `net/ipv4/conf/${iif}/forwarding`;
  const value = sysctl(kernel, key) ?? sysctl(kernel, 'net/ipv4/ip_forward');
  return { on: value === '1', key: sysctl(kernel, key) !== undefined ? key : 'net/ipv4/ip_forward' };
}

/** The reverse-path filter mode on `dev`: the larger of conf.all and conf.DEV (0 off, 1 strict, 2 loose). */
export function rpFilterMode(kernel: KernelState, dev: string): { mode: number; key: string } {
  const all = Number(sysctl(kernel, 'net/ipv4/conf/all/rp_filter') ?? 0);
  const own = Number(sysctl(kernel, `net/ipv4/conf/${dev}/rp_filter`) ?? 0);
  return own >= all ? { mode: own, key: `net/ipv4/conf/${dev}/rp_filter` } : { mode: all, key: 'net/ipv4/conf/all/rp_filter' };
}

/**
 * Whether reverse-path filtering on `iif` accepts a packet from `src`: strict wants the route back to
 * the source to leave through `iif`, loose only wants a route back at all.
 */
export function reversePathAccepts(kernel: KernelState, src: string, iif: string): { accepted: boolean; mode: number; key: string; back: RouteChoice } {
  const { mode, key } = rpFilterMode(kernel, iif);
  const back = lookupRoute(kernel, { dst: src });
  const routable = back.type === 'unicast' || back.type === 'local';
  const accepted = mode === 0 || (mode === 2 && routable) || (mode === 1 && routable && back.dev === iif);
  return { accepted, mode, key, back };
}
