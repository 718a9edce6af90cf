import { formatCidr, formatIp, type Cidr, type IP } from '../ip.ts';
import { formatMac, macBytes } from '../mac.ts';
import {
  addressFamily,
  AF_UNSPEC,
  attrIpText,
  attrString,
  body,
  ifinfomsg,
  ipBytes,
  message,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  parseAttrs,
  u32,
  u8,
  type Attr,
} from './wire.ts';
import { describeNeighbourRequest, encodeNeighbourRequest, type NeighbourRequest } from './neighbour-requests.ts';

// Link, address, route and neighbour changes as values, and the rtnetlink messages that make them. A
// plan is a list of these; the socket applies them in order and names the one the kernel refused.

interface RouteFields {
  link: string;
  dst: Cidr;
  via?: IP;
  /** The gateway is on the link even though no address of the link's covers it. */
  onlink?: boolean;
  metric?: number;
  table?: number;
  scope?: number;
  mtu?: number;
  advmss?: number;
}

export type LinkRequest =
  | { op: 'create-bridge'; name: string; mac: string; mtu?: number; vlanFiltering: boolean }
  | { op: 'create-veth'; name: string; mac: string; mtu?: number; peer: { name: string; mac: string; netns: string } }
  | { op: 'set-link'; name: string; set: 'up' | 'promisc' | 'hairpin' }
  | { op: 'set-alias'; name: string; alias: string }
  | { op: 'set-master'; name: string; master: string }
  | { op: 'delete-link'; name: string }
  | { op: 'add-address' | 'replace-address' | 'delete-address'; link: string; address: Cidr; nodad?: boolean }
  | ({ op: 'add-route' } & RouteFields)
  | ({ op: 'replace-route' } & RouteFields)
  | { op: 'delete-route'; dst: Cidr; link?: string }
  | NeighbourRequest;

/** What GETLINK answers with (and a dump of links lists). */
export const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
/** What a dump of addresses lists. */
export const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const RTM_GETADDR = 22;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_MASTER = 10;
const IFLA_LINKINFO = 18;
const IFLA_IFALIAS = 20;
const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_INFO_SLAVE_KIND = 4;
const IFLA_INFO_SLAVE_DATA = 5;
const VETH_INFO_PEER = 1;
const IFLA_BR_VLAN_FILTERING = 7;
const IFLA_BRPORT_MODE = 4;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_F_NODAD = 0x02;

const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_METRICS = 8;
const RTA_TABLE = 15;
const RTAX_MTU = 2;
const RTAX_ADVMSS = 8;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;
const RT_SCOPE_NOWHERE = 255;
const RTN_UNSPEC = 0;
const RTN_UNICAST = 1;
const RTNH_F_ONLINK = 4;

export const IFF_UP = 0x1;
export const IFF_PROMISC = 0x100;

/** What encoding needs from the system: a link's index by name, and an open file for a namespace path. */
export interface EncodeContext {
  index(link: string): number;
  netnsFd(path: string): number;
}

function linkAttrs(name: string, mac: string, mtu: number | undefined): Attr[] {
  return [{ type: IFLA_IFNAME, value: name }, { type: IFLA_ADDRESS, value: macBytes(mac) }, ...(mtu ? [{ type: IFLA_MTU, value: u32(mtu) }] : [])];
}

function ifaddrmsg(address: Cidr, index: number, flags: number): Uint8Array {
  return Uint8Array.of(addressFamily(address.ip.family), address.prefix, flags, RT_SCOPE_UNIVERSE, ...u32(index));
}

/** As `ip route add`: main table, protocol boot, link scope for an IPv4 route without a gateway. */
function rtmsg(request: Extract<LinkRequest, { op: 'add-route' | 'replace-route' }>): Uint8Array {
  const table = request.table ?? RT_TABLE_MAIN;
  const scope = request.scope ?? (request.via === undefined && request.dst.ip.family === 4 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE);
  return Uint8Array.of(addressFamily(request.dst.ip.family), request.dst.prefix, 0, 0, table < 256 ? table : 0, RTPROT_BOOT, scope, RTN_UNICAST, ...u32(request.onlink ? RTNH_F_ONLINK : 0));
}

/** As `ip route del`: any protocol, scope and type of route to dst in the main table (on the link when named). */
function deleteRouteMessage(request: Extract<LinkRequest, { op: 'delete-route' }>, context: EncodeContext): Uint8Array {
  const fixed = Uint8Array.of(addressFamily(request.dst.ip.family), request.dst.prefix, 0, 0, RT_TABLE_MAIN, 0, RT_SCOPE_NOWHERE, RTN_UNSPEC, 0, 0, 0, 0);
  const attrs: Attr[] = [{ type: RTA_DST, value: ipBytes(request.dst.ip) }, ...(request.link !== undefined ? [{ type: RTA_OIF, value: u32(context.index(request.link)) }] : [])];
  return message(RTM_DELROUTE, NLM_F_ACK, body(fixed, attrs));
}

export function encodeLinkRequest(request: LinkRequest, context: EncodeContext): Uint8Array {
  const create = NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  switch (request.op) {
    case 'create-bridge':
      return message(RTM_NEWLINK, create, body(ifinfomsg(), [
        ...linkAttrs(request.name, request.mac, request.mtu),
        { type: IFLA_LINKINFO, value: [{ type: IFLA_INFO_KIND, value: 'bridge' }, ...(request.vlanFiltering ? [{ type: IFLA_INFO_DATA, value: [{ type: IFLA_BR_VLAN_FILTERING, value: u8(1) }] }] : [])] },
      ]));
    case 'create-veth': {
      const peer = body(ifinfomsg(), [...linkAttrs(request.peer.name, request.peer.mac, request.mtu), { type: IFLA_NET_NS_FD, value: u32(context.netnsFd(request.peer.netns)) }]);
      return message(RTM_NEWLINK, create, body(ifinfomsg(), [
        ...linkAttrs(request.name, request.mac, request.mtu),
        { type: IFLA_LINKINFO, value: [{ type: IFLA_INFO_KIND, value: 'veth' }, { type: IFLA_INFO_DATA, value: [{ type: VETH_INFO_PEER, value: peer }] }] },
      ]));
    }
    case 'set-link': {
      const index = context.index(request.name);
      if (request.set === 'hairpin') {
        return message(RTM_NEWLINK, NLM_F_ACK, body(ifinfomsg({ index }), [
          { type: IFLA_LINKINFO, value: [{ type: IFLA_INFO_SLAVE_KIND, value: 'bridge' }, { type: IFLA_INFO_SLAVE_DATA, value: [{ type: IFLA_BRPORT_MODE, value: u8(1) }] }] },
        ]));
      }
      const flag = request.set === 'up' ? IFF_UP : IFF_PROMISC;
      return message(RTM_NEWLINK, NLM_F_ACK, body(ifinfomsg({ index, flags: flag, change: flag }), []));
    }
    case 'set-alias':
      return message(RTM_NEWLINK, NLM_F_ACK, body(ifinfomsg({ index: context.index(request.name) }), [{ type: IFLA_IFALIAS, value: request.alias }]));
    case 'set-master':
      return message(RTM_NEWLINK, NLM_F_ACK, body(ifinfomsg({ index: context.index(request.name) }), [{ type: IFLA_MASTER, value: u32(context.index(request.master)) }]));
    case 'delete-link':
      return message(RTM_DELLINK, NLM_F_ACK, body(ifinfomsg(), [{ type: IFLA_IFNAME, value: request.name }]));
    case 'add-address':
    case 'replace-address':
    case 'delete-address': {
      const type = request.op === 'delete-address' ? RTM_DELADDR : RTM_NEWADDR;
      const flags = request.op === 'add-address' ? create : request.op === 'replace-address' ? NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE : NLM_F_ACK;
      const local = ipBytes(request.address.ip);
      const attrs: Attr[] = [{ type: IFA_LOCAL, value: local }, { type: IFA_ADDRESS, value: local }];
      return message(type, flags, body(ifaddrmsg(request.address, context.index(request.link), request.nodad ? IFA_F_NODAD : 0), attrs));
    }
    case 'add-route':
    case 'replace-route': {
      const metrics: Attr[] = [...(request.mtu !== undefined ? [{ type: RTAX_MTU, value: u32(request.mtu) }] : []), ...(request.advmss !== undefined ? [{ type: RTAX_ADVMSS, value: u32(request.advmss) }] : [])];
      const attrs: Attr[] = [
        { type: RTA_DST, value: ipBytes(request.dst.ip) },
        ...(request.via !== undefined ? [{ type: RTA_GATEWAY, value: ipBytes(request.via) }] : []),
        { type: RTA_OIF, value: u32(context.index(request.link)) },
        ...(request.metric !== undefined ? [{ type: RTA_PRIORITY, value: u32(request.metric) }] : []),
        ...((request.table ?? RT_TABLE_MAIN) >= 256 ? [{ type: RTA_TABLE, value: u32(request.table!) }] : []),
        ...(metrics.length ? [{ type: RTA_METRICS, value: metrics }] : []),
      ];
      return message(RTM_NEWROUTE, request.op === 'add-route' ? create : NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, body(rtmsg(request), attrs));
    }
    case 'delete-route':
      return deleteRouteMessage(request, context);
    default:
      return encodeNeighbourRequest(request, context.index(request.link));
  }
}

/** The request in words, for an error naming what the kernel refused. */
export function describeLinkRequest(request: LinkRequest): string {
  switch (request.op) {
    case 'create-bridge':
      return `create bridge "${request.name}"${request.vlanFiltering ? ' with VLAN filtering' : ''}`;
    case 'create-veth':
      return `create veth "${request.name}" with peer "${request.peer.name}" in "${request.peer.netns}"`;
    case 'set-link':
      return `set "${request.name}" ${request.set === 'hairpin' ? 'hairpin on' : request.set}`;
    case 'set-alias':
      return `set the alias of "${request.name}"`;
    case 'set-master':
      return `attach "${request.name}" to "${request.master}"`;
    case 'delete-link':
      return `delete "${request.name}"`;
    case 'add-address':
    case 'replace-address':
      return `add address ${formatCidr(request.address)} to "${request.link}"`;
    case 'delete-address':
      return `delete address ${formatCidr(request.address)} from "${request.link}"`;
    case 'add-route':
    case 'replace-route':
      return `${request.op === 'add-route' ? 'add' : 'set'} route to ${formatCidr(request.dst)}${request.via ? ` via ${formatIp(request.via)}` : ''} on "${request.link}"`;
    case 'delete-route':
      return `delete route to ${formatCidr(request.dst)}${request.link !== undefined ? ` on "${request.link}"` : ''}`;
    default:
      return describeNeighbourRequest(request);
  }
}

export function getLinkMessage(name: string): Uint8Array {
  return message(RTM_GETLINK, NLM_F_ACK, body(ifinfomsg(), [{ type: IFLA_IFNAME, value: name }]));
}

export function dumpAddressesMessage(): Uint8Array {
  return message(RTM_GETADDR, NLM_F_DUMP, body(Uint8Array.of(AF_UNSPEC, 0, 0, 0, 0, 0, 0, 0), []));
}

export interface LinkInfo {
  index: number;
  name: string;
  kind?: string;
  mac: string;
  flags: number;
}

/** An RTM_NEWLINK reply: the link's index, name, kind, MAC and flags. */
export function parseLink(payload: Uint8Array): LinkInfo {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const attrs = parseAttrs(payload.subarray(16));
  const linkinfo = attrs.get(IFLA_LINKINFO);
  const kind = linkinfo ? attrString(parseAttrs(linkinfo).get(IFLA_INFO_KIND)) : undefined;
  const mac = attrs.get(IFLA_ADDRESS);
  return { index: view.getInt32(4, true), name: attrString(attrs.get(IFLA_IFNAME)) ?? '', ...(kind ? { kind } : {}), mac: mac ? formatMac(mac) : '', flags: view.getUint32(8, true) };
}

export interface AddressInfo {
  index: number;
  family: 4 | 6;
  local: string;
  prefixlen: number;
}

/** An RTM_NEWADDR reply; the local address, or the address for families that send only that (IPv6). */
export function parseAddress(payload: Uint8Array): AddressInfo | undefined {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const attrs = parseAttrs(payload.subarray(8));
  const local = attrIpText(attrs.get(IFA_LOCAL) ?? attrs.get(IFA_ADDRESS));
  if (local === undefined) return undefined;
  return { index: view.getUint32(4, true), family: local.includes(':') ? 6 : 4, local, prefixlen: payload[1]! };
}
