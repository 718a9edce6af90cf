import { familyBits, formatIp, type Family, type IP } from '../ip.ts';

// rtnetlink's wire format (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h): a message is a
// 16-byte header, a fixed family header, then type-length-value attributes padded to 4 bytes; all
// numbers in host order (little-endian on the machines weft runs on), addresses in network order.

export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_DUMP = 0x300;
const NLM_F_CAPPED = 0x100;
const NLM_F_ACK_TLVS = 0x200;

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
const NLMSGERR_ATTR_MSG = 1;

export const HEADER_BYTES = 16;

const align = (n: number): number => (n + 3) & ~3;

/** A value an attribute carries: raw bytes, a string (NUL-terminated), or nested attributes. */
export type AttrValue = Uint8Array | string | Attr[];

export interface Attr {
  type: number;
  value: AttrValue;
}

export const u8 = (value: number): Uint8Array => Uint8Array.of(value);

export function u32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value, true);
  return bytes;
}

/** An address in network byte order, 4 or 16 bytes. */
export function ipBytes(ip: IP): Uint8Array {
  const length = familyBits(ip.family) / 8;
  const bytes = new Uint8Array(length);
  let value = ip.value;
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return bytes;
}

function attrBytes(value: AttrValue): Uint8Array {
  if (typeof value === 'string') return Buffer.from(value + '\0');
  if (value instanceof Uint8Array) return value;
  return concat(value.map(encodeAttr));
}

function encodeAttr(attr: Attr): Uint8Array {
  const payload = attrBytes(attr.value);
  const bytes = new Uint8Array(align(4 + payload.length));
  const view = new DataView(bytes.buffer);
  view.setUint16(0, 4 + payload.length, true);
  view.setUint16(2, attr.type, true);
  bytes.set(payload, 4);
  return bytes;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

/** The family header then attributes, as a message body or a nested header (a veth's peer). */
export function body(fixed: Uint8Array, attrs: readonly Attr[]): Uint8Array {
  return concat([fixed, ...attrs.map(encodeAttr)]);
}

/** A request message; the socket stamps its sequence number. */
export function message(type: number, flags: number, payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + payload.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, bytes.length, true);
  view.setUint16(4, type, true);
  view.setUint16(6, flags | NLM_F_REQUEST, true);
  bytes.set(payload, HEADER_BYTES);
  return bytes;
}

/** struct ifinfomsg: family, type, index, flags, change. */
export function ifinfomsg(fields: { family?: number; index?: number; flags?: number; change?: number } = {}): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, fields.family ?? 0);
  view.setInt32(4, fields.index ?? 0, true);
  view.setUint32(8, fields.flags ?? 0, true);
  view.setUint32(12, fields.change ?? 0, true);
  return bytes;
}

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

export function addressFamily(family: Family): number {
  return family === 4 ? AF_INET : AF_INET6;
}

/** One message read back: its type and flags, sequence number, and the bytes after the header. */
export interface Reply {
  type: number;
  flags: number;
  seq: number;
  payload: Uint8Array;
}

/** Splits what one read returned into its messages. */
export function splitReplies(bytes: Uint8Array): Reply[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const replies: Reply[] = [];
  let offset = 0;
  while (offset + HEADER_BYTES <= bytes.length) {
    const length = view.getUint32(offset, true);
    if (length < HEADER_BYTES || offset + length > bytes.length) break;
    replies.push({
      type: view.getUint16(offset + 4, true),
      flags: view.getUint16(offset + 6, true),
      seq: view.getUint32(offset + 8, true),
      payload: bytes.subarray(offset + HEADER_BYTES, offset + length),
    });
    offset += align(length);
  }
  return replies;
}

/** Attributes as type -> bytes (the last of a type wins; rtnetlink sends each once). */
export function parseAttrs(bytes: Uint8Array): Map<number, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const attrs = new Map<number, Uint8Array>();
  let offset = 0;
  while (offset + 4 <= bytes.length) {
    const length = view.getUint16(offset, true);
    if (length < 4 || offset + length > bytes.length) break;
    // The top two bits flag nesting and byte order, not the type.
    attrs.set(view.getUint16(offset + 2, true) & 0x3fff, bytes.subarray(offset + 4, offset + length));
    offset += align(length);
  }
  return attrs;
}

export function attrString(bytes: Uint8Array | undefined): string | undefined {
  if (!bytes) return undefined;
  const end = bytes.indexOf(0);
  return Buffer.from(bytes.buffer, bytes.byteOffset, end === -1 ? bytes.length : end).toString();
}

export function attrIp(bytes: Uint8Array | undefined): IP | undefined {
  if (!bytes || (bytes.length !== 4 && bytes.length !== 16)) return undefined;
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return { family: bytes.length === 4 ? 4 : 6, value };
}

export function attrIpText(bytes: Uint8Array | undefined): string | undefined {
  const ip = attrIp(bytes);
  return ip ? formatIp(ip) : undefined;
}

/** An NLMSG_ERROR: errno 0 is an acknowledgement; the kernel's own explanation when it gave one. */
export function parseError(reply: Reply): { errno: number; detail?: string } {
  const view = new DataView(reply.payload.buffer, reply.payload.byteOffset, reply.payload.byteLength);
  const errno = -view.getInt32(0, true) | 0;
  if (errno === 0 || !(reply.flags & NLM_F_ACK_TLVS) || reply.payload.length < 4 + HEADER_BYTES) return { errno };
  // The request follows the error code (its header alone when capped), then the extended-ack attributes.
  const echoed = reply.flags & NLM_F_CAPPED ? HEADER_BYTES : align(view.getUint32(4, true));
  const detail = attrString(parseAttrs(reply.payload.subarray(4 + echoed)).get(NLMSGERR_ATTR_MSG));
  return detail ? { errno, detail } : { errno };
}
