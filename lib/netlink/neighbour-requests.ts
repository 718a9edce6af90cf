import { formatIp, type IP } from '../ip.ts';
import { macBytes } from '../mac.ts';
import { addressFamily, body, ipBytes, message, NLM_F_ACK, NLM_F_CREATE, NLM_F_REPLACE, type Attr } from './wire.ts';

// Neighbour and forwarding-database entries as values, and the rtnetlink messages that make them
// (linux/neighbour.h): the same message kind serves both, an FDB entry being a neighbour of the
// bridge family kept by the device itself (NTF_SELF), as `bridge fdb ... self` makes it.

export type NeighbourRequest =
  | { op: 'replace-neighbour'; link: string; address: IP; mac: string }
  | { op: 'delete-neighbour'; link: string; address: IP }
  | { op: 'replace-fdb'; link: string; mac: string; dst: IP }
  | { op: 'delete-fdb'; link: string; mac: string; dst: IP };

const RTM_NEWNEIGH = 28;
const RTM_DELNEIGH = 29;
const NDA_DST = 1;
const NDA_LLADDR = 2;
const NUD_PERMANENT = 0x80;
const NTF_SELF = 0x02;
const AF_BRIDGE = 7;

/** struct ndmsg: family, padding, ifindex, state, flags, type. */
function ndmsg(family: number, index: number, flags: number): Uint8Array {
  const bytes = new Uint8Array(12);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, family);
  view.setInt32(4, index, true);
  view.setUint16(8, NUD_PERMANENT, true);
  view.setUint8(10, flags);
  return bytes;
}

/** The request's message; `index` is the link's interface index. */
export function encodeNeighbourRequest(request: NeighbourRequest, index: number): Uint8Array {
  const replace = NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
  switch (request.op) {
    case 'replace-neighbour':
    case 'delete-neighbour': {
      const attrs: Attr[] = [{ type: NDA_DST, value: ipBytes(request.address) }, ...(request.op === 'replace-neighbour' ? [{ type: NDA_LLADDR, value: macBytes(request.mac) }] : [])];
      const fixed = ndmsg(addressFamily(request.address.family), index, 0);
      return request.op === 'replace-neighbour' ? message(RTM_NEWNEIGH, replace, body(fixed, attrs)) : message(RTM_DELNEIGH, NLM_F_ACK, body(fixed, attrs));
    }
    case 'replace-fdb':
    case 'delete-fdb': {
      const attrs: Attr[] = [{ type: NDA_LLADDR, value: macBytes(request.mac) }, { type: NDA_DST, value: ipBytes(request.dst) }];
      const fixed = ndmsg(AF_BRIDGE, index, NTF_SELF);
      return request.op === 'replace-fdb' ? message(RTM_NEWNEIGH, replace, body(fixed, attrs)) : message(RTM_DELNEIGH, NLM_F_ACK, body(fixed, attrs));
    }
  }
}

/** The request in words, for an error naming what the kernel refused. */
export function describeNeighbourRequest(request: NeighbourRequest): string {
  switch (request.op) {
    case 'replace-neighbour':
      return `set neighbour ${formatIp(request.address)} to ${request.mac} on "${request.link}"`;
    case 'delete-neighbour':
      return `delete neighbour ${formatIp(request.address)} on "${request.link}"`;
    case 'replace-fdb':
      return `set FDB entry ${request.mac} to ${formatIp(request.dst)} on "${request.link}"`;
    case 'delete-fdb':
      return `delete FDB entry ${request.mac} to ${formatIp(request.dst)} on "${request.link}"`;
  }
}
