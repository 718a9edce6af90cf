import { describe, expect, it } from 'vitest';
import { formatMac, macBytes } from '../../../../lib/mac.ts';
import { parseIp } from '../../../../lib/ip.ts';
import { attrIpText, attrString, body, ifinfomsg, ipBytes, message, parseAttrs, parseError, splitReplies, u32, u8, NLMSG_ERROR } from '../../../../lib/netlink/wire.ts';

describe('rtnetlink wire format', () => {
  it('pads each attribute to 4 bytes but records its unpadded length, strings NUL-terminated, nests recursively', () => {
    const bytes = body(new Uint8Array(0), [
      { type: 3, value: 'eth0' },
      { type: 18, value: [{ type: 1, value: u8(7) }] },
    ]);
    expect([...bytes]).toEqual([
      9, 0, 3, 0, 0x65, 0x74, 0x68, 0x30, 0, 0, 0, 0, // "eth0\0" + 3 padding bytes
      12, 0, 18, 0, 5, 0, 1, 0, 7, 0, 0, 0, // nested u8 attribute, padded
    ]);
  });

  it('writes the header: length, type, flags with REQUEST, zero sequence for the socket to stamp', () => {
    const bytes = message(16, 0x4, ifinfomsg({ index: 7, flags: 1, change: 1 }));
    const view = new DataView(bytes.buffer);
    expect([view.getUint32(0, true), view.getUint16(4, true), view.getUint16(6, true), view.getUint32(8, true)]).toEqual([32, 16, 0x5, 0]);
    expect([view.getInt32(20, true), view.getUint32(24, true), view.getUint32(28, true)]).toEqual([7, 1, 1]);
  });

  it('puts addresses in network order and MACs as six bytes', () => {
    expect([...ipBytes(parseIp('10.1.2.3')!)]).toEqual([10, 1, 2, 3]);
    expect([...ipBytes(parseIp('fd00::1')!)]).toEqual([0xfd, 0, ...new Array(13).fill(0), 1]);
    expect([...macBytes('02:ab:00:01:ff:10')]).toEqual([2, 0xab, 0, 1, 0xff, 0x10]);
    expect(formatMac(macBytes('02:ab:00:01:ff:10'))).toBe('02:ab:00:01:ff:10');
  });

  it('reads back attributes, ignoring the nesting flag in the type', () => {
    const bytes = body(new Uint8Array(0), [{ type: 3, value: 'br0' }, { type: 0x8000 | 2, value: ipBytes(parseIp('fd00::5')!) }]);
    const attrs = parseAttrs(bytes);
    expect(attrString(attrs.get(3))).toBe('br0');
    expect(attrIpText(attrs.get(2))).toBe('fd00::5');
  });

  it('splits one read into its messages and stops at a truncated one', () => {
    const a = message(16, 0, u32(1));
    const b = message(3, 0, u32(0));
    const both = new Uint8Array([...a, ...b, 1, 2, 3]);
    const replies = splitReplies(both);
    expect(replies.map((r) => r.type)).toEqual([16, 3]);
    expect([...replies[0]!.payload]).toEqual([1, 0, 0, 0]);
  });

  it('reads an error code and the kernel\'s extended-ack message, with capped and with full echoes', () => {
    const request = message(16, 0x4, ifinfomsg());
    const extack = body(new Uint8Array(0), [{ type: 1, value: 'Unknown device type' }]);
    const capped = { type: NLMSG_ERROR, flags: 0x100 | 0x200, seq: 1, payload: new Uint8Array([...u32(-95 >>> 0), ...request.subarray(0, 16), ...extack]) };
    expect(parseError(capped)).toEqual({ errno: 95, detail: 'Unknown device type' });
    const full = { type: NLMSG_ERROR, flags: 0x200, seq: 1, payload: new Uint8Array([...u32(-17 >>> 0), ...request, ...extack]) };
    expect(parseError(full)).toEqual({ errno: 17, detail: 'Unknown device type' });
    expect(parseError({ type: NLMSG_ERROR, flags: 0, seq: 1, payload: new Uint8Array([...u32(0), ...request.subarray(0, 16)]) })).toEqual({ errno: 0 });
  });
});
