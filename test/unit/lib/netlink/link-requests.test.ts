import { describe, expect, it } from 'vitest';
import { macBytes } from '../../../../lib/mac.ts';
import { parseCidr, parseIp } from '../../../../lib/ip.ts';
import { describeLinkRequest, encodeLinkRequest, parseAddress, parseLink, type LinkRequest } from '../../../../lib/netlink/link-requests.ts';
import { attrIpText, attrString, body, ifinfomsg, parseAttrs, u32, HEADER_BYTES } from '../../../../lib/netlink/wire.ts';

const indexes: Record<string, number> = { br0: 3, veth1: 9, eth0: 2 };
const context = { index: (name: string) => indexes[name]!, netnsFd: (path: string) => (path === '/run/netns/pod' ? 21 : -1) };

function decode(request: LinkRequest) {
  const bytes = encodeLinkRequest(request, context);
  const view = new DataView(bytes.buffer);
  const fixed = view.getUint16(4, true) >= 24 ? 12 : view.getUint16(4, true) >= 20 ? 8 : 16;
  return { length: view.getUint32(0, true), size: bytes.length, type: view.getUint16(4, true), flags: view.getUint16(6, true), fixed: bytes.subarray(HEADER_BYTES, HEADER_BYTES + fixed), attrs: parseAttrs(bytes.subarray(HEADER_BYTES + fixed)) };
}

const u32At = (bytes: Uint8Array | undefined) => new DataView(bytes!.buffer, bytes!.byteOffset).getUint32(0, true);

describe('encodeLinkRequest', () => {
  it('creates a veth exclusively, its peer named, addressed and placed in the namespace by an open file', () => {
    const m = decode({ op: 'create-veth', name: 'veth1', mac: '02:00:00:00:00:01', mtu: 1400, peer: { name: 'eth0', mac: '02:00:00:00:00:02', netns: '/run/netns/pod' } });
    expect(m.length).toBe(m.size);
    expect([m.type, m.flags]).toEqual([16, 0x1 | 0x4 | 0x400 | 0x200]);
    expect(attrString(m.attrs.get(3))).toBe('veth1');
    expect([...m.attrs.get(1)!]).toEqual([...macBytes('02:00:00:00:00:01')]);
    expect(u32At(m.attrs.get(4))).toBe(1400);
    const linkinfo = parseAttrs(m.attrs.get(18)!);
    expect(attrString(linkinfo.get(1))).toBe('veth');
    const peer = parseAttrs(linkinfo.get(2)!).get(1)!;
    const peerAttrs = parseAttrs(peer.subarray(16));
    expect(attrString(peerAttrs.get(3))).toBe('eth0');
    expect(u32At(peerAttrs.get(28))).toBe(21);
    expect(u32At(peerAttrs.get(4))).toBe(1400);
  });

  it('refuses to encode a peer for a namespace that is not open', () => {
    expect(() => encodeLinkRequest({ op: 'create-veth', name: 'v', mac: '02:00:00:00:00:01', peer: { name: 'eth0', mac: '02:00:00:00:00:02', netns: '/other' } }, { ...context, netnsFd: () => { throw new Error('not open'); } })).toThrow('not open');
  });

  it('creates a bridge, with VLAN filtering only when asked', () => {
    const plain = parseAttrs(decode({ op: 'create-bridge', name: 'br0', mac: '02:00:00:00:00:03', vlanFiltering: false }).attrs.get(18)!);
    expect(attrString(plain.get(1))).toBe('bridge');
    expect(plain.has(2)).toBe(false);
    const filtering = parseAttrs(decode({ op: 'create-bridge', name: 'br0', mac: '02:00:00:00:00:03', vlanFiltering: true }).attrs.get(18)!);
    expect([...parseAttrs(filtering.get(2)!).get(7)!]).toEqual([1]);
  });

  it('sets flags by index with a change mask, and attaches by the master\'s index', () => {
    const up = decode({ op: 'set-link', name: 'veth1', set: 'up' });
    const view = new DataView(up.fixed.buffer, up.fixed.byteOffset);
    expect([view.getInt32(4, true), view.getUint32(8, true), view.getUint32(12, true)]).toEqual([9, 1, 1]);
    expect(up.flags & 0x400).toBe(0);
    expect(u32At(decode({ op: 'set-master', name: 'veth1', master: 'br0' }).attrs.get(10))).toBe(3);
    const hairpin = parseAttrs(decode({ op: 'set-link', name: 'veth1', set: 'hairpin' }).attrs.get(18)!);
    expect(attrString(hairpin.get(4))).toBe('bridge');
    expect([...parseAttrs(hairpin.get(5)!).get(4)!]).toEqual([1]);
    expect(attrString(decode({ op: 'set-alias', name: 'veth1', alias: 'weft-bridge net=n id=c if=eth0' }).attrs.get(20))).toBe('weft-bridge net=n id=c if=eth0');
  });

  it('adds an address exclusively, replaces one with REPLACE, without DAD when asked', () => {
    const add = decode({ op: 'add-address', link: 'eth0', address: parseCidr('fd00::5/64')!, nodad: true });
    expect([add.type, add.flags & 0x700]).toEqual([20, 0x600]);
    expect([...add.fixed]).toEqual([10, 64, 0x02, 0, 2, 0, 0, 0]);
    expect(attrIpText(add.attrs.get(2))).toBe('fd00::5');
    const replace = decode({ op: 'replace-address', link: 'br0', address: parseCidr('10.1.0.1/24')!, nodad: false });
    expect(replace.flags & 0x700).toBe(0x500);
    expect([...replace.fixed]).toEqual([2, 24, 0, 0, 3, 0, 0, 0]);
    expect(decode({ op: 'delete-address', link: 'br0', address: parseCidr('10.1.0.1/24')! }).type).toBe(21);
  });

  it('adds routes as `ip route add` does: main table, boot protocol, link scope without a gateway', () => {
    const onLink = decode({ op: 'add-route', link: 'eth0', dst: parseCidr('10.9.0.0/16')! });
    expect([...onLink.fixed]).toEqual([2, 16, 0, 0, 254, 3, 253, 1, 0, 0, 0, 0]);
    expect(u32At(onLink.attrs.get(4))).toBe(2);
    const via = decode({ op: 'add-route', link: 'eth0', dst: parseCidr('::/0')!, via: parseIp('fd00::1')!, metric: 5, mtu: 1300, advmss: 1200 });
    expect([...via.fixed.subarray(0, 8)]).toEqual([10, 0, 0, 0, 254, 3, 0, 1]);
    expect(attrIpText(via.attrs.get(5))).toBe('fd00::1');
    expect(u32At(via.attrs.get(6))).toBe(5);
    const metrics = parseAttrs(via.attrs.get(8)!);
    expect([u32At(metrics.get(2)), u32At(metrics.get(8))]).toEqual([1300, 1200]);
    const table = decode({ op: 'add-route', link: 'eth0', dst: parseCidr('10.9.0.0/16')!, via: parseIp('10.1.0.1')!, table: 1000, scope: 200 });
    expect([table.fixed[4], table.fixed[6]]).toEqual([0, 200]);
    expect(u32At(table.attrs.get(15))).toBe(1000);
    expect(decode({ op: 'add-route', link: 'eth0', dst: parseCidr('10.9.0.0/16')!, table: 100 }).fixed[4]).toBe(100);
  });

  it('replaces a route, onlink when asked, and deletes one as `ip route del` does (any protocol, scope and type)', () => {
    const replace = decode({ op: 'replace-route', link: 'eth0', dst: parseCidr('10.244.2.0/24')!, via: parseIp('10.244.2.0')!, onlink: true });
    expect([replace.type, replace.flags & 0x700]).toEqual([24, 0x500]);
    expect([...replace.fixed]).toEqual([2, 24, 0, 0, 254, 3, 0, 1, 4, 0, 0, 0]);
    expect(attrIpText(replace.attrs.get(5))).toBe('10.244.2.0');
    expect(decode({ op: 'replace-route', link: 'eth0', dst: parseCidr('10.244.2.0/24')!, via: parseIp('172.30.0.2')! }).fixed[8]).toBe(0);
    const anywhere = decode({ op: 'delete-route', dst: parseCidr('10.244.3.0/24')! });
    expect([anywhere.type, anywhere.flags]).toEqual([25, 0x1 | 0x4]);
    expect([...anywhere.fixed]).toEqual([2, 24, 0, 0, 254, 0, 255, 0, 0, 0, 0, 0]);
    expect([attrIpText(anywhere.attrs.get(1)), anywhere.attrs.has(4)]).toEqual(['10.244.3.0', false]);
    expect(u32At(decode({ op: 'delete-route', dst: parseCidr('10.244.3.0/24')!, link: 'br0' }).attrs.get(4))).toBe(3);
  });

  it('replaces and deletes a permanent neighbour, and an FDB entry of the device itself (bridge family, NTF_SELF)', () => {
    const neighbour = decode({ op: 'replace-neighbour', link: 'br0', address: parseIp('10.244.2.0')!, mac: '0e:00:00:00:00:02' });
    expect([neighbour.type, neighbour.flags]).toEqual([28, 0x1 | 0x4 | 0x400 | 0x100]);
    // ndmsg: family, padding, ifindex, state NUD_PERMANENT, flags, type
    expect([...neighbour.fixed]).toEqual([2, 0, 0, 0, 3, 0, 0, 0, 0x80, 0, 0, 0]);
    expect(attrIpText(neighbour.attrs.get(1))).toBe('10.244.2.0');
    expect([...neighbour.attrs.get(2)!]).toEqual([...macBytes('0e:00:00:00:00:02')]);
    const gone = decode({ op: 'delete-neighbour', link: 'br0', address: parseIp('10.244.2.0')! });
    expect([gone.type, gone.flags, gone.attrs.has(2)]).toEqual([29, 0x1 | 0x4, false]);
    const fdb = decode({ op: 'replace-fdb', link: 'veth1', mac: '0e:00:00:00:00:02', dst: parseIp('172.30.0.2')! });
    expect([fdb.type, fdb.flags]).toEqual([28, 0x1 | 0x4 | 0x400 | 0x100]);
    expect([...fdb.fixed]).toEqual([7, 0, 0, 0, 9, 0, 0, 0, 0x80, 0, 0x02, 0]);
    expect([attrIpText(fdb.attrs.get(1)), [...fdb.attrs.get(2)!]]).toEqual(['172.30.0.2', [...macBytes('0e:00:00:00:00:02')]]);
    const fdbGone = decode({ op: 'delete-fdb', link: 'veth1', mac: '0e:00:00:00:00:02', dst: parseIp('172.30.0.2')! });
    expect([fdbGone.type, fdbGone.fixed[0], fdbGone.fixed[10], attrIpText(fdbGone.attrs.get(1))]).toEqual([29, 7, 0x02, '172.30.0.2']);
  });

  it('names each request in words for errors', () => {
    expect(describeLinkRequest({ op: 'add-route', link: 'eth0', dst: parseCidr('0.0.0.0/0')!, via: parseIp('10.1.0.1')! })).toBe('add route to 0.0.0.0/0 via 10.1.0.1 on "eth0"');
    expect(describeLinkRequest({ op: 'set-master', name: 'veth1', master: 'br0' })).toBe('attach "veth1" to "br0"');
    expect(describeLinkRequest({ op: 'delete-route', dst: parseCidr('10.244.3.0/24')! })).toBe('delete route to 10.244.3.0/24');
    expect(describeLinkRequest({ op: 'replace-fdb', link: 'weft.1', mac: '0e:00:00:00:00:02', dst: parseIp('172.30.0.2')! })).toBe('set FDB entry 0e:00:00:00:00:02 to 172.30.0.2 on "weft.1"');
  });
});

describe('parsing replies', () => {
  it('reads a link: index, name, kind, MAC and flags', () => {
    const payload = body(ifinfomsg({ index: 4, flags: 0x1103 }), [
      { type: 3, value: 'br0' },
      { type: 1, value: macBytes('02:00:00:00:00:03') },
      { type: 18, value: [{ type: 1, value: 'bridge' }] },
    ]);
    expect(parseLink(payload)).toEqual({ index: 4, name: 'br0', kind: 'bridge', mac: '02:00:00:00:00:03', flags: 0x1103 });
  });

  it('reads an address: the local address when sent, else the address', () => {
    const v4 = body(Uint8Array.of(2, 24, 0, 0, ...u32(4)), [{ type: 1, value: Uint8Array.of(10, 1, 0, 9) }, { type: 2, value: Uint8Array.of(10, 1, 0, 1) }]);
    expect(parseAddress(v4)).toEqual({ index: 4, family: 4, local: '10.1.0.1', prefixlen: 24 });
    const v6 = body(Uint8Array.of(10, 64, 0, 0, ...u32(4)), [{ type: 1, value: Uint8Array.of(0xfd, ...new Array(14).fill(0), 1) }]);
    expect(parseAddress(v6)).toEqual({ index: 4, family: 6, local: 'fd00::1', prefixlen: 64 });
  });
});
