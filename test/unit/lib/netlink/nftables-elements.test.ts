import { describe, expect, it } from 'vitest';
import { elementLayout, encodeElementBatches, type ElementLayout, type SetElements } from '../../../../lib/netlink/nftables-elements.ts';
import { splitReplies } from '../../../../lib/netlink/wire.ts';

// The expected bytes are what nft 1.0.6 sent for the same `add element` lines, read back with
// `nft --debug=netlink list table` (libnftnl prints each 32-bit word in host order).

const SVCS: ElementLayout = { key: ['ipv4', 'port'], data: 'port' };
const EPS: ElementLayout = { key: ['ipv4', 'port', 'host-u32'], data: 'ipv4' };
const NODEPORTS: ElementLayout = { key: ['port'], data: 'port' };
const NODEPORT_EPS: ElementLayout = { key: ['port', 'host-u32'], data: 'ipv4' };

interface Attr {
  type: number;
  value: Uint8Array;
}

function attrs(bytes: Uint8Array): Attr[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Attr[] = [];
  for (let at = 0; at + 4 <= bytes.length; ) {
    const length = view.getUint16(at, true);
    out.push({ type: view.getUint16(at + 2, true), value: bytes.subarray(at + 4, at + length) });
    at += (length + 3) & ~3;
  }
  return out;
}

const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('latin1');
const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('hex');

/** Each NEWSETELEM message of the batches: its set and its elements as hex key, data and user data. */
function decode(batches: ReturnType<typeof encodeElementBatches>) {
  return batches.flatMap((batch) =>
    splitReplies(batch.bytes)
      .filter((m) => m.type === 0x0a0c)
      .map((m) => {
        const top = attrs(m.payload.subarray(4));
        const elements = attrs(top.find((a) => a.type === 3)!.value).map((item) => {
          const parts = attrs(item.value);
          const value = (type: number) => attrs(parts.find((p) => p.type === type)?.value ?? new Uint8Array()).find((a) => a.type === 1)?.value;
          const user = parts.find((p) => p.type === 6)?.value;
          return { key: hex(value(1)), data: hex(value(2)), ...(user ? { user: hex(user) } : {}) };
        });
        return { seq: m.seq, flags: m.flags, table: text(top.find((a) => a.type === 1)?.value), set: text(top.find((a) => a.type === 2)?.value), elements };
      }),
  );
}

describe('elementLayout', () => {
  it('reads the group maps and the hairpin set', () => {
    expect(elementLayout('typeof ip daddr . th dport : th dport;')).toEqual(SVCS);
    expect(elementLayout('typeof ip daddr . th dport . numgen random mod 3 : ip daddr;')).toEqual(EPS);
    expect(elementLayout('typeof th dport : th dport;')).toEqual(NODEPORTS);
    expect(elementLayout('typeof th dport . numgen random mod 12 : ip daddr;')).toEqual(NODEPORT_EPS);
    expect(elementLayout('typeof ip saddr . ip daddr;')).toEqual({ key: ['ipv4', 'ipv4'] });
  });

  it('leaves to nft what it does not know: protocols, verdicts, timeouts', () => {
    expect(elementLayout('typeof ip daddr . meta l4proto . th dport;')).toBeUndefined();
    expect(elementLayout('typeof ip daddr . meta l4proto . th dport : verdict;')).toBeUndefined();
    expect(elementLayout('type ipv4_addr; flags dynamic,timeout; timeout 10800s;')).toBeUndefined();
  });
});

describe('encodeElementBatches', () => {
  it('encodes each group map element as nft sends it', () => {
    const sets: SetElements[] = [
      { set: 'svcs-tcp-2', layout: SVCS, elements: ['10.96.0.10 . 53 comment "kube-system/kube-dns:dns-tcp" : 5353'] },
      { set: 'eps-tcp-2', layout: EPS, elements: ['10.96.0.10 . 53 . 1 : 10.244.1.7'] },
      { set: 'nodeports-tcp-2', layout: NODEPORTS, elements: ['30080 comment "a/b:http" : 8080'] },
      { set: 'nodeport-eps-tcp-2', layout: NODEPORT_EPS, elements: ['30080 . 1 : 10.244.1.7'] },
      { set: 'hairpin', layout: { key: ['ipv4', 'ipv4'] }, elements: ['10.244.1.7 . 10.244.1.7'] },
    ];
    const messages = decode(encodeElementBatches('weft', sets));
    expect(messages.map((m) => ({ table: m.table, set: m.set, elements: m.elements }))).toEqual([
      { table: 'weft\0', set: 'svcs-tcp-2\0', elements: [{ key: '0a60000a00350000', data: '14e9', user: `001d${Buffer.from('kube-system/kube-dns:dns-tcp\0').toString('hex')}` }] },
      { table: 'weft\0', set: 'eps-tcp-2\0', elements: [{ key: '0a60000a0035000001000000', data: '0af40107' }] },
      { table: 'weft\0', set: 'nodeports-tcp-2\0', elements: [{ key: '7580', data: '1f90', user: `0009${Buffer.from('a/b:http\0').toString('hex')}` }] },
      { table: 'weft\0', set: 'nodeport-eps-tcp-2\0', elements: [{ key: '7580000001000000', data: '0af40107' }] },
      { table: 'weft\0', set: 'hairpin\0', elements: [{ key: '0af401070af40107', data: '' }] },
    ]);
    // NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE: every message is answered.
    expect(new Set(messages.map((m) => m.flags))).toEqual(new Set([0x405]));
  });

  it('splits many elements into batches within the size asked, each a BATCH_BEGIN ... BATCH_END, in order, every message named by its sequence number', () => {
    const elements = Array.from({ length: 20_000 }, (_, i) => `10.96.${i >> 8}.${i & 255} . 80 . ${i % 7} : 10.244.${i >> 8}.${i & 255}`);
    const batches = encodeElementBatches('weft', [{ set: 'eps-tcp-7', layout: EPS, elements }], { batchBytes: 16 * 1024, firstSeq: 100 });
    expect(batches.length).toBeGreaterThan(20);
    for (const batch of batches) {
      expect(batch.bytes.length).toBeLessThanOrEqual(16 * 1024);
      const messages = splitReplies(batch.bytes);
      expect(messages.reduce((n, m) => n + ((16 + m.payload.length + 3) & ~3), 0)).toBe(batch.bytes.length);
      expect(messages[0]).toMatchObject({ type: 0x10, seq: batch.begin });
      expect(messages.at(-1)?.type).toBe(0x11);
      expect(messages.slice(1, -1).map((m) => m.seq)).toEqual([...batch.messages.keys()]);
    }
    const decoded = decode(batches);
    expect(decoded.flatMap((m) => m.elements)).toHaveLength(20_000);
    expect(decoded[0]?.elements[0]).toEqual({ key: '0a60000000500000' + '00000000', data: '0af40000' });
    expect(decoded.at(-1)?.elements.at(-1)).toEqual({ key: '0a604e1f00500000' + '00000000', data: '0af44e1f' });
    const seqs = batches.flatMap((b) => [b.begin, ...b.messages.keys()]);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(Math.min(...seqs)).toBe(100);
    expect(batches.flatMap((b) => [...b.messages.values()]).reduce((n, m) => n + m.count, 0)).toBe(20_000);
  });

  it('keeps each message\'s element list within a 16-bit attribute length at the default batch size', () => {
    const elements = Array.from({ length: 10_000 }, (_, i) => `10.96.${i >> 8}.${i & 255} . 80 comment "default/service-${i}:http" : 8080`);
    for (const batch of encodeElementBatches('weft', [{ set: 'svcs-tcp-1', layout: SVCS, elements }])) {
      for (const m of splitReplies(batch.bytes).filter((r) => r.type === 0x0a0c)) expect(m.payload.length).toBeLessThan(0xffff);
    }
  });

  it('refuses an element its set cannot hold, naming both', () => {
    const encode = (layout: ElementLayout, element: string) => () => encodeElementBatches('weft', [{ set: 'eps-tcp-2', layout, elements: [element] }]);
    expect(encode(EPS, '10.96.0.10 . 53 : 10.244.1.7')).toThrow('cannot encode element "10.96.0.10 . 53 : 10.244.1.7" of set "eps-tcp-2": the set\'s key has 3 fields');
    expect(encode(EPS, '10.96.0.10 . 53 . 1')).toThrow(/a map element needs a value/);
    expect(encode(SVCS, '10.96.0.10 . 65536 : 80')).toThrow(/field 2 is not a port/);
    expect(encode(SVCS, '10.96.0.256 . 80 : 80')).toThrow(/field 1 is not a ipv4/);
    expect(encode(SVCS, '10.96.0.1 . 80 : 80 extra')).toThrow(/unexpected text at character 20/);
    expect(encode(SVCS, '10.96.0.1 . 80 comment "open : 80')).toThrow(/the comment is not closed/);
    expect(encode({ key: ['ipv4'] }, '10.96.0.1 : 80')).toThrow(/unexpected text/);
  });
});
