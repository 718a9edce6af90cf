import type { Attachment, Result } from '../cni/types.ts';
import { familyBits, formatCidr, formatIp, networkAddress, parseCidr, parseIp } from '../../lib/ip.ts';
import type { IpLink, IpRoute } from '../../lib/ip-json.ts';

// CHECK compares what ADD reported (prevResult) with what the kernel shows now. Pure: the caller
// queries `ip -json` and hands the listings in.

export interface Observed {
  /** The pod's interface, absent when it is gone. */
  pod?: IpLink;
  /** IPv4 and IPv6 routes of the pod's namespace, all tables. */
  routes: readonly IpRoute[];
  /** The host end of the veth, absent when it is gone. */
  host?: IpLink;
}

/** "fd00:0::1" and "fd00::1" are one address. */
function canonical(text: string): string {
  const ip = parseIp(text);
  return ip ? formatIp(ip) : text;
}

function routeKey(dst: string, gateway: string | undefined, v6Hint: boolean): string {
  // iproute2 prints 0.0.0.0/0 as "default" and host routes without a prefix.
  const v6 = dst.includes(':') || (dst === 'default' && v6Hint);
  const full = dst === 'default' ? (v6 ? '::/0' : '0.0.0.0/0') : dst.includes('/') ? dst : `${dst}/${familyBits(v6 ? 6 : 4)}`;
  const cidr = parseCidr(full);
  const gw = gateway === undefined ? '' : canonical(gateway);
  return `${cidr ? formatCidr({ ip: networkAddress(cidr), prefix: cidr.prefix }) : full} via ${gw}`;
}

/** Every difference between prevResult and the observed state, as sentences; empty when they agree. */
export function findMismatches(prev: Result, observed: Observed, expected: { attachment: Attachment; bridge: string; hostVeth: string }): string[] {
  const problems: string[] = [];
  const { ifname } = expected.attachment;
  const index = (prev.interfaces ?? []).findIndex((i) => i.name === ifname && i.sandbox !== undefined);
  if (index < 0) return [`prevResult has no interface "${ifname}" with a sandbox`];
  const pod = observed.pod;
  if (!pod) return [`interface "${ifname}" is missing from the pod's namespace`];
  const mac = prev.interfaces![index]!.mac;
  if (mac !== undefined && pod.address?.toLowerCase() !== mac.toLowerCase()) problems.push(`interface "${ifname}" has MAC "${pod.address}", not "${mac}"`);
  const addresses = new Set((pod.addr_info ?? []).map((a) => `${canonical(a.local)}/${a.prefixlen}`));
  for (const ip of prev.ips ?? []) {
    if (ip.interface !== undefined && ip.interface !== index) continue;
    const [address, prefix] = ip.address.split('/');
    if (!addresses.has(`${canonical(address ?? '')}/${prefix}`)) problems.push(`interface "${ifname}" lacks address "${ip.address}"`);
  }
  const routes = new Set(observed.routes.map((r) => routeKey(r.dst, r.gateway, r.gateway?.includes(':') ?? false)));
  const routesNoGw = new Set(observed.routes.map((r) => routeKey(r.dst, undefined, r.gateway?.includes(':') ?? false)));
  for (const route of prev.routes ?? []) {
    const v6 = route.dst.includes(':');
    const found = route.gw === undefined ? routesNoGw.has(routeKey(route.dst, undefined, v6)) : routes.has(routeKey(route.dst, route.gw, v6));
    if (!found) problems.push(`route to "${route.dst}"${route.gw ? ` via "${route.gw}"` : ''} is missing`);
  }
  if (!observed.host) problems.push(`host veth "${expected.hostVeth}" is missing`);
  else if (observed.host.master !== expected.bridge) problems.push(`host veth "${expected.hostVeth}" is attached to "${observed.host.master ?? 'nothing'}", not bridge "${expected.bridge}"`);
  return problems;
}
