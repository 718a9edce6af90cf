import { describe, expect, it } from 'vitest';
import { decodeStatus, ListDecoder, ProtobufError, SharedStrings, type MessageSchema } from '../../../lib/kube/protobuf.ts';

// Bytes are written here by hand, field by field, as the protobuf wire format defines them; the
// cluster test "protobuf lists" decodes what a real API server sends.

function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? byte | 0x80 : byte);
  } while (v > 0n);
  return out;
}

const key = (field: number, wire: number) => varint(BigInt(field * 8 + wire));
const num = (field: number, value: number | bigint) => [...key(field, 0), ...varint(BigInt(value))];
const bytes = (field: number, content: number[]) => [...key(field, 2), ...varint(BigInt(content.length)), ...content];
const str = (field: number, text: string) => bytes(field, [...Buffer.from(text, 'utf8')]);

/** The envelope: magic, then runtime.Unknown with `raw` and optional contentEncoding. */
function envelope(raw: number[], contentEncoding = ''): Buffer {
  return Buffer.from([0x6b, 0x38, 0x73, 0x00, ...bytes(1, [...str(1, 'v1'), ...str(2, 'List')]), ...bytes(2, raw), ...str(3, contentEncoding), ...str(4, '')]);
}

const PORT: MessageSchema = { 1: ['name', 'string'], 3: ['port', 'int32'], 5: ['nodePort', 'int32'] };
const ITEM: MessageSchema = {
  1: ['metadata', { 1: ['name', 'string'], 11: ['labels', 'stringMap'] }],
  2: ['ports', [PORT]],
  3: ['ips', 'strings'],
  4: ['ready', 'bool'],
  5: ['offset', 'int32'],
};

/** The list as ListDecoder reads it from `bytes` arriving in pieces of `piece` bytes. */
function decodeList(bytes: Buffer, item: MessageSchema, what: string, piece = bytes.length || 1): Record<string, unknown> {
  const items: Record<string, unknown>[] = [];
  const decoder = new ListDecoder(item, what, (i) => items.push(i));
  for (let at = 0; at < bytes.length; at += piece) decoder.push(bytes.subarray(at, at + piece));
  return { metadata: decoder.end(), items };
}

describe('protobuf lists', () => {
  it('reads the named fields of each item into JSON-shaped objects and skips every other field', () => {
    const item = [
      ...bytes(1, [...str(1, 'web'), ...bytes(11, [...str(1, 'app'), ...str(2, 'web')]), ...bytes(11, [...str(1, 'tier'), ...str(2, '')]), ...str(17, 'managed fields')]),
      ...bytes(2, [...str(1, 'http'), ...num(3, 80), ...num(5, 0)]),
      ...bytes(2, [...str(1, ''), ...num(3, 443), ...num(5, 30443)]),
      ...str(3, '10.0.0.1'),
      ...str(3, '10.0.0.2'),
      ...num(4, 0),
      ...num(5, -2),
      ...num(9, 7),
      ...key(10, 1), ...[1, 2, 3, 4, 5, 6, 7, 8],
      ...key(11, 5), ...[1, 2, 3, 4],
      ...str(12, 'ignored'),
    ];
    const list = decodeList(envelope([...bytes(1, [...str(2, '4711'), ...str(3, 'next-page')]), ...bytes(2, item), ...bytes(2, str(3, '10.0.0.3'))]), ITEM, 'the list');
    expect(list).toEqual({
      metadata: { resourceVersion: '4711', continue: 'next-page' },
      items: [
        {
          metadata: { name: 'web', labels: { app: 'web', tier: '' } },
          ports: [{ name: 'http', port: 80 }, { port: 443, nodePort: 30443 }],
          ips: ['10.0.0.1', '10.0.0.2'],
          ready: false,
          offset: -2,
        },
        { ips: ['10.0.0.3'] },
      ],
    });
  });

  it('reads the same list whatever pieces its bytes arrive in, and hands each item over once its bytes are in', () => {
    const items = [bytes(2, [...str(3, '10.0.0.1'), ...num(5, 3)]), bytes(2, str(3, 'x'.repeat(300))), bytes(2, num(4, 1))];
    const body = envelope([...bytes(1, str(2, '7')), ...items.flat()]);
    const whole = decodeList(body, ITEM, 'the list');
    expect(whole).toEqual({ metadata: { resourceVersion: '7' }, items: [{ ips: ['10.0.0.1'], offset: 3 }, { ips: ['x'.repeat(300)] }, { ready: true }] });
    for (const piece of [1, 2, 3, 7, 64, 129]) expect(decodeList(body, ITEM, 'the list', piece)).toEqual(whole);

    const seen: unknown[] = [];
    const decoder = new ListDecoder(ITEM, 'the list', (i) => seen.push(i));
    const firstItemEnd = body.indexOf(Buffer.from(items[0] as number[])) + (items[0] as number[]).length;
    decoder.push(body.subarray(0, firstItemEnd - 1));
    expect(seen).toEqual([]);
    decoder.push(body.subarray(firstItemEnd - 1, firstItemEnd));
    expect(seen).toEqual([{ ips: ['10.0.0.1'], offset: 3 }]);
  });

  it('refuses a body that ends inside the list', () => {
    const body = envelope([...bytes(1, str(2, '7')), ...bytes(2, str(3, '10.0.0.1'))]);
    for (const cut of [2, 10, body.length - 8]) expect(() => decodeList(body.subarray(0, cut), ITEM, 'the list', 3)).toThrow(/cannot decode the list: (the bytes end inside a field|it does not start)/);
    expect(() => decodeList(Buffer.alloc(0), ITEM, 'the list')).toThrow(/does not start with the protobuf magic/);
  });

  it('reads an empty list as one with no items', () => {
    expect(decodeList(envelope(bytes(1, str(2, '1'))), ITEM, 'the list')).toEqual({ metadata: { resourceVersion: '1' }, items: [] });
  });

  it('refuses bytes without the magic, a field that runs past its message, a wrong wire type and a compressed body', () => {
    const cases: [Buffer, RegExp][] = [
      [Buffer.from('{"items":[]}'), /cannot decode the list: it does not start with the protobuf magic/],
      [envelope([...bytes(2, str(3, '10.0.0.1')).slice(0, -2)]), /runs past its message/],
      [envelope(bytes(2, num(3, 5))), /field ips \(3\) has wire type 0, not a length-delimited one/],
      [envelope(bytes(2, str(4, 'yes'))), /field ready \(4\) has wire type 2, not a number/],
      [envelope([], 'gzip'), /content encoding "gzip" is not supported/],
      [Buffer.from([0x6b, 0x38, 0x73, 0x00]), /the envelope holds no object/],
      [envelope(bytes(2, [...key(13, 3)])), /wire type 3 is not one the API server writes/],
    ];
    for (const [input, error] of cases) {
      expect(() => decodeList(input, ITEM, 'the list')).toThrow(ProtobufError);
      expect(() => decodeList(input, ITEM, 'the list')).toThrow(error);
    }
  });

  it('hands out one string per distinct value of a shared field, and reads plain fields, long values and non-ASCII values as they are', () => {
    const schema: MessageSchema = { 1: ['node', 'sharedString'], 2: ['name', 'string'] };
    const long = 'n'.repeat(65);
    const item = (node: string, name: string) => bytes(2, [...str(1, node), ...str(2, name)]);
    const list = decodeList(envelope([...item('node-a', 'web'), ...item('node-b', 'web'), ...item('node-a', 'web'), ...item('nœud', 'db'), ...item(long, 'db'), ...item('', 'x')]), schema, 'the list', 7);
    const items = list.items as { node?: string; name: string }[];
    expect(items.map((i) => i.node)).toEqual(['node-a', 'node-b', 'node-a', 'nœud', long, undefined]);
    expect(items.map((i) => i.name)).toEqual(['web', 'web', 'web', 'db', 'db', 'x']);
    // The same object, not only an equal string: one copy however many items hold it.
    expect(Object.is(items[0]?.node, items[2]?.node)).toBe(true);
  });

  it('never confuses two shared values that land in one slot', () => {
    const shared = new SharedStrings();
    const values = Array.from({ length: 20_000 }, (_, i) => `value-${i}`);
    const decoded = values.map((v) => {
      const b = Buffer.from(`xx${v}yy`);
      return shared.get(b, 2, b.length - 2);
    });
    expect(decoded).toEqual(values);
    const again = values.map((v) => shared.get(Buffer.from(v), 0, v.length));
    expect(again).toEqual(values);
  });

  it('reads the message, reason and code of an error Status', () => {
    const status = [...bytes(1, []), ...str(2, 'Failure'), ...str(3, 'services is forbidden'), ...str(4, 'Forbidden'), ...num(6, 403)];
    expect(decodeStatus(envelope(status), 'an error')).toEqual({ message: 'services is forbidden', reason: 'Forbidden', code: 403 });
  });
});
