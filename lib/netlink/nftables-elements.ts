import { HEADER_BYTES, NLM_F_ACK, NLM_F_CREATE, NLM_F_REQUEST } from './wire.ts';

// Set and map elements as nf_tables netlink batches (linux/netfilter/nf_tables.h, nfnetlink.h): what
// `nft -f` sends for `add element` lines, without parsing them as text. A batch is one transaction:
// BATCH_BEGIN, NEWSETELEM messages each holding many elements, BATCH_END. Elements come in nft's own
// syntax, restricted to the fields below, so the text a partial sync compares and the bytes a load
// sends are the same elements; the layouts are what nft 1.0.6 writes for the same `typeof` (checked
// by the namespace test against nft's own load).

/** A field of a key or value: an IPv4 address and a port travel in network order, a numgen result in host order. */
export type ElementField = 'ipv4' | 'port' | 'host-u32';

export interface ElementLayout {
  readonly key: readonly ElementField[];
  /** A map's value; a set has none. */
  readonly data?: ElementField;
}

const FIELD_BYTES: Record<ElementField, number> = { ipv4: 4, port: 2, 'host-u32': 4 };

function fieldOf(expression: string): ElementField | undefined {
  if (expression === 'ip daddr' || expression === 'ip saddr') return 'ipv4';
  if (expression === 'th dport') return 'port';
  if (/^numgen random mod \d+$/.test(expression)) return 'host-u32';
  return undefined;
}

/**
 * The layout of a set or map declared as `typeof KEY;` or `typeof KEY : VALUE;` (an `add set|map`
 * spec); undefined for any other declaration (flags, timeouts, verdicts, other fields), whose
 * elements nft writes.
 */
export function elementLayout(spec: string): ElementLayout | undefined {
  const match = /^typeof ([^:;]+?)(?: : ([^:;]+?))?;$/.exec(spec.trim());
  if (!match) return undefined;
  const key = match[1]!.split(' . ').map(fieldOf);
  if (key.some((f) => f === undefined)) return undefined;
  if (match[2] === undefined) return { key: key as ElementField[] };
  const data = fieldOf(match[2]);
  return data === undefined ? undefined : { key: key as ElementField[], data };
}

const NFNL_SUBSYS_NFTABLES = 10;
const NFNL_MSG_BATCH_BEGIN = 0x10;
const NFNL_MSG_BATCH_END = 0x11;
const NFT_MSG_NEWSETELEM = 12;
const NFPROTO_IPV4 = 2;

const NFTA_SET_ELEM_LIST_TABLE = 1;
const NFTA_SET_ELEM_LIST_SET = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS = 3;
const NFTA_LIST_ELEM = 1;
const NFTA_SET_ELEM_KEY = 1;
const NFTA_SET_ELEM_DATA = 2;
const NFTA_SET_ELEM_USERDATA = 6;
const NFTA_DATA_VALUE = 1;
/** libnftnl's element comment: type 0, length, the text and its NUL. */
const NFTNL_UDATA_SET_ELEM_COMMENT = 0;

/** An attribute's length is 16 bits: a message's element list stays below it. */
const MAX_LIST_BYTES = 0xffff - 4;
/**
 * A batch is one write, which the kernel refuses past the socket's send buffer: 128 KiB stays below
 * the usual net.core.wmem_default (212,992 bytes) even where the addon could not raise it (socket.c).
 */
const DEFAULT_BATCH_BYTES = 128 * 1024;

export interface SetElements {
  readonly set: string;
  readonly layout: ElementLayout;
  /** `KEY`, `KEY : VALUE`, either with ` comment "TEXT"` after the key; a key's fields joined by ` . `. */
  readonly elements: readonly string[];
}

/** One transaction's bytes, and what each of its messages holds, by sequence number, for naming a refusal. */
export interface ElementBatch {
  readonly bytes: Uint8Array;
  /** The batch's first sequence number (BATCH_BEGIN), which the kernel answers when its commit fails. */
  readonly begin: number;
  readonly messages: ReadonlyMap<number, { readonly set: string; readonly first: string; readonly count: number }>;
}

class BadElement extends Error {
  constructor(set: string, element: string, why: string) {
    super(`cannot encode element "${element}" of set "${set}": ${why}`);
    this.name = 'BadElement';
  }
}

/** Writes messages and attributes into one batch's buffer, which starts as zeros (padding is never written). */
class BatchWriter {
  readonly buffer: Buffer;
  readonly view: DataView;
  at = 0;
  constructor(bytes: number) {
    this.buffer = Buffer.alloc(bytes);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, bytes);
  }
  fits(bytes: number): boolean {
    return this.at + bytes <= this.buffer.length;
  }
  header(type: number, flags: number, seq: number, family: number, resId: number): number {
    const start = this.at;
    this.view.setUint16(start + 4, type, true);
    this.view.setUint16(start + 6, flags, true);
    this.view.setUint32(start + 8, seq, true);
    this.view.setUint32(start + 12, 0, true);
    this.buffer[start + 16] = family;
    this.buffer[start + 17] = 0; // NFNETLINK_V0
    this.view.setUint16(start + 18, resId, false);
    this.at = start + HEADER_BYTES + 4;
    return start;
  }
  endMessage(start: number): void {
    this.view.setUint32(start, this.at - start, true);
  }
  open(type: number): number {
    const start = this.at;
    this.view.setUint16(start + 2, type, true);
    this.at += 4;
    return start;
  }
  close(start: number): void {
    this.view.setUint16(start, this.at - start, true);
    this.at = (this.at + 3) & ~3;
  }
  bytes(type: number, write: (at: number) => number): void {
    const start = this.open(type);
    this.at += write(this.at);
    this.close(start);
  }
  text(type: number, value: string): void {
    this.bytes(type, (at) => {
      const n = this.buffer.write(value, at, 'latin1');
      this.buffer[at + n] = 0;
      return n + 1;
    });
  }
}

/**
 * Reads an element's text from its start, writing each field as it goes: no substrings, as a full
 * load reads 100k elements. Each read returns where its text ends, or -1 when it is not such a value.
 */
class ElementReader {
  readonly writer: BatchWriter;
  text = '';
  /** The last number read. */
  value = 0;
  constructor(writer: BatchWriter) {
    this.writer = writer;
  }

  /** A decimal number of at most `max` at `from`: its value in `value`, its end returned. */
  number(from: number, max: number): number {
    let n = 0;
    let at = from;
    for (; at < this.text.length; at++) {
      const c = this.text.charCodeAt(at) - 48;
      if (c < 0 || c > 9) break;
      n = n * 10 + c;
      if (n > max) return -1;
    }
    this.value = n;
    return at === from ? -1 : at;
  }

  /** `field` at text position `from` written at byte `at` (a new batch's buffer is zeros, so padding needs no write). */
  field(from: number, field: ElementField, at: number): number {
    const { buffer, view } = this.writer;
    if (field === 'ipv4') {
      let end = from;
      for (let i = 0; i < 4; i++) {
        if (i > 0) {
          if (this.text.charCodeAt(end) !== 46) return -1; // '.'
          end++;
        }
        end = this.number(end, 255);
        if (end < 0) return -1;
        buffer[at + i] = this.value;
      }
      return end;
    }
    const end = this.number(from, field === 'port' ? 0xffff : 0xffffffff);
    if (end < 0) return -1;
    if (field === 'port') view.setUint16(at, this.value, false);
    else view.setUint32(at, this.value, true);
    return end;
  }

  /** Whether ` X ` (a separator: `.` or `:`, code `middle`) is at `from`. */
  separator(from: number, middle: number): boolean {
    const t = this.text;
    return t.charCodeAt(from) === 32 && t.charCodeAt(from + 1) === middle && t.charCodeAt(from + 2) === 32;
  }
}

const DOT = 46; // ` . ` between a key's fields
const COLON = 58; // ` : ` before a map's value
const COMMENT_START = ' comment "';

function writeElement(writer: BatchWriter, reader: ElementReader, s: SetElements, element: string, widths: readonly number[]): void {
  const bad = (why: string) => new BadElement(s.set, element, why);
  const { key, data } = s.layout;
  reader.text = element;
  let pos = 0;
  const item = writer.open(NFTA_LIST_ELEM);
  const keyAttr = writer.open(NFTA_SET_ELEM_KEY);
  writer.bytes(NFTA_DATA_VALUE, (at) => {
    let offset = at;
    for (let i = 0; i < key.length; i++) {
      if (i > 0) {
        if (!reader.separator(pos, DOT)) throw bad(`the set's key has ${key.length} fields`);
        pos += 3;
      }
      pos = reader.field(pos, key[i]!, offset);
      if (pos < 0) throw bad(`field ${i + 1} is not a ${key[i]}`);
      offset += widths[i]!;
    }
    return offset - at;
  });
  writer.close(keyAttr);
  let comment: string | undefined;
  if (element.startsWith(COMMENT_START, pos)) {
    const from = pos + COMMENT_START.length;
    const to = element.indexOf('"', from);
    if (to < 0) throw bad('the comment is not closed');
    comment = element.slice(from, to);
    pos = to + 1;
  }
  if (data !== undefined) {
    if (!reader.separator(pos, COLON)) throw bad('a map element needs a value');
    const dataAttr = writer.open(NFTA_SET_ELEM_DATA);
    writer.bytes(NFTA_DATA_VALUE, (at) => {
      pos = reader.field(pos + 3, data, at);
      if (pos < 0) throw bad(`the value is not a ${data}`);
      return FIELD_BYTES[data];
    });
    writer.close(dataAttr);
  }
  if (pos !== element.length) throw bad(`unexpected text at character ${pos + 1}`);
  if (comment !== undefined) {
    if (comment.length > 253 || /[^\x20-\x7e]/.test(comment)) throw bad('a comment is at most 253 printable ASCII characters');
    const text = comment;
    writer.bytes(NFTA_SET_ELEM_USERDATA, (at) => {
      writer.buffer[at] = NFTNL_UDATA_SET_ELEM_COMMENT;
      writer.buffer[at + 1] = text.length + 1;
      writer.buffer.write(text, at + 2, 'latin1');
      writer.buffer[at + 2 + text.length] = 0;
      return text.length + 3;
    });
  }
  writer.close(item);
}

/** Each field of a concatenation takes whole 32-bit registers; a single field its own size. */
function keyWidths(layout: ElementLayout): number[] {
  const sizes = layout.key.map((f) => FIELD_BYTES[f]);
  return sizes.length === 1 ? sizes : sizes.map((n) => (n + 3) & ~3);
}

/** The most one element can take, so a batch never needs to split one. */
function elementBound(widths: readonly number[], layout: ElementLayout): number {
  const key = widths.reduce((a, b) => a + b, 0);
  return 4 + 4 + 4 + key + 4 + 4 + 4 + (layout.data ? 4 : 0) + 4 + 256 + 8;
}

/**
 * `sets`' elements as batches of at most `batchBytes` for table `table` of family ip, sequence numbers
 * from `firstSeq` on; every NEWSETELEM asks for an acknowledgement, so each message gets an answer.
 * Throws BadElement for an element its set's layout cannot hold (nothing is sent then).
 */
export function encodeElementBatches(table: string, sets: readonly SetElements[], options: { batchBytes?: number; firstSeq?: number } = {}): ElementBatch[] {
  const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  const batches: ElementBatch[] = [];
  let seq = options.firstSeq ?? 1;
  let writer: BatchWriter | undefined;
  let begin = 0;
  let messages = new Map<number, { set: string; first: string; count: number }>();
  const endBatch = () => {
    if (!writer) return;
    const end = writer.header(NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq++, 0, NFNL_SUBSYS_NFTABLES);
    writer.endMessage(end);
    batches.push({ bytes: writer.buffer.subarray(0, writer.at), begin, messages });
    writer = undefined;
    messages = new Map();
  };
  const startBatch = () => {
    writer = new BatchWriter(batchBytes);
    begin = seq++;
    writer.endMessage(writer.header(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, begin, 0, NFNL_SUBSYS_NFTABLES));
    return writer;
  };
  for (const s of sets) {
    const widths = keyWidths(s.layout);
    const bound = elementBound(widths, s.layout);
    const fixed = HEADER_BYTES + 4 + 4 + ((table.length + 4) & ~3) + 4 + ((s.set.length + 4) & ~3) + 4;
    if (fixed + bound + 2 * (HEADER_BYTES + 4) > batchBytes) throw new Error(`cannot encode set "${s.set}": one element does not fit a ${batchBytes}-byte batch`);
    let i = 0;
    while (i < s.elements.length) {
      let w: BatchWriter = writer ?? startBatch();
      if (!w.fits(fixed + bound + HEADER_BYTES + 4)) {
        endBatch();
        w = startBatch();
      }
      const messageSeq = seq++;
      const message = w.header((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK, messageSeq, NFPROTO_IPV4, 0);
      w.text(NFTA_SET_ELEM_LIST_TABLE, table);
      w.text(NFTA_SET_ELEM_LIST_SET, s.set);
      const list = w.open(NFTA_SET_ELEM_LIST_ELEMENTS);
      const first = i;
      // Room for BATCH_END after this message.
      const reader = new ElementReader(w);
      while (i < s.elements.length && w.at - list + bound <= MAX_LIST_BYTES && w.fits(bound + HEADER_BYTES + 4)) writeElement(w, reader, s, s.elements[i++]!, widths);
      w.close(list);
      w.endMessage(message);
      messages.set(messageSeq, { set: s.set, first: s.elements[first]!, count: i - first });
    }
  }
  endBatch();
  return batches;
}
