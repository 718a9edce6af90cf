// Reads the API server's protobuf encoding of a list into plain objects shaped as its JSON encoding,
// holding only the fields a schema names: a list of 10,000 Services and their EndpointSlices is half
// as many bytes as JSON, cheaper for the server to encode, and most of it (managedFields, annotations,
// owner references) is skipped here by its length instead of being parsed. The envelope is
// Kubernetes' own: 4 magic bytes, then a runtime.Unknown whose `raw` field holds the list.

/**
 * A field's kind; a schema is a message's kind, and `[schema]` a repeated message. A `sharedString`
 * is one whose values repeat across a list's objects (namespaces, protocols, node names, label keys
 * and values): each distinct value is decoded once and the objects share it.
 */
export type FieldKind = 'string' | 'sharedString' | 'strings' | 'int32' | 'bool' | 'stringMap' | MessageSchema | readonly [MessageSchema];

/**
 * A message's fields by number: each one's JSON name and kind. Fields not named are skipped. The API's
 * protobuf writes a field that is not a pointer even when it is empty, where JSON's omitempty leaves it
 * out: a string field that is "" and a number that is 0 are left out here too (a schema names only
 * fields that are omitempty, or pointers whose empty value the API refuses). Booleans are kept.
 */
export interface MessageSchema {
  readonly [field: number]: readonly [name: string, kind: FieldKind];
}

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

const LIST_META: MessageSchema = { 2: ['resourceVersion', 'string'], 3: ['continue', 'string'] };

const NOT_PROTOBUF = 'it does not start with the protobuf magic "k8s\\0"';
const NO_OBJECT = 'the envelope holds no object';

/** Why a body whose envelope names `encoding` cannot be read; undefined for the plain encoding. */
function encodingRefusal(encoding: string): string | undefined {
  return encoding === '' ? undefined : `its content encoding "${encoding}" is not supported`;
}

/** runtime.Unknown: the object's bytes and how they are encoded. */
const UNKNOWN = { raw: 2, contentEncoding: 3 } as const;

const STATUS: MessageSchema = { 3: ['message', 'string'], 4: ['reason', 'string'], 6: ['code', 'int32'] };

export class ProtobufError extends Error {}

/** Longest value a SharedStrings keeps: repeated values are short; longer ones are decoded each time. */
const SHARED_MAX_LENGTH = 64;
/** Slots of a SharedStrings (a power of two). */
const SHARED_SLOTS = 4096;

/**
 * Strings decoded once per distinct value, by their bytes: a direct-mapped cache, so a list of unique
 * values costs a slot each and never grows it. A value found is the same string as before, which
 * saves decoding it, allocating it and hashing it again as a map key. Only ASCII values are kept
 * (every value the proxy shares is ASCII); others are decoded each time.
 */
export class SharedStrings {
  readonly #slots: (string | undefined)[] = new Array(SHARED_SLOTS);

  get(bytes: Buffer, start: number, stop: number): string {
    const length = stop - start;
    if (length > SHARED_MAX_LENGTH) return bytes.toString('utf8', start, stop);
    let hash = length;
    for (let i = start; i < stop; i++) {
      const byte = bytes[i] as number;
      if (byte >= 0x80) return bytes.toString('utf8', start, stop);
      hash = Math.imul(hash ^ byte, 0x01000193);
    }
    const slot = (hash ^ (hash >>> 16)) & (SHARED_SLOTS - 1);
    const known = this.#slots[slot];
    if (known !== undefined && known.length === length && sameAscii(known, bytes, start)) return known;
    const text = bytes.toString('latin1', start, stop);
    this.#slots[slot] = text;
    return text;
  }
}

function sameAscii(text: string, bytes: Buffer, start: number): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}

class Reader {
  readonly bytes: Buffer;
  readonly what: string;
  at: number;
  /** The position of bytes[0] in the whole body, for messages. */
  readonly origin: number;
  readonly shared: SharedStrings | undefined;
  constructor(bytes: Buffer, start: number, what: string, origin = 0, shared?: SharedStrings) {
    this.bytes = bytes;
    this.what = what;
    this.at = start;
    this.origin = origin;
    this.shared = shared;
  }

  fail(message: string): never {
    throw new ProtobufError(`cannot decode ${this.what}: ${message} at byte ${this.origin + this.at}`);
  }

  /** An unsigned varint (lengths, keys, booleans): exact below 2^53, which every length is. */
  varint(end: number): number {
    let value = 0;
    let scale = 1;
    for (let shift = 0; shift < 64; shift += 7) {
      if (this.at >= end) this.fail('a number runs past its message');
      const byte = this.bytes[this.at++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    return this.fail('a number is longer than 10 bytes');
  }

  /** An int32, which the wire sign-extends to 64 bits: its low 32 bits are its value. */
  int32(end: number): number {
    let low = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (this.at >= end) this.fail('a number runs past its message');
      const byte = this.bytes[this.at++] as number;
      if (shift < 32) low |= (byte & 0x7f) << shift;
      if (byte < 0x80) return low;
    }
    return this.fail('a number is longer than 10 bytes');
  }

  /** The end of a length-delimited field that starts here. */
  span(end: number): number {
    const length = this.varint(end);
    const stop = this.at + length;
    if (stop > end) this.fail('a field runs past its message');
    return stop;
  }

  skip(wire: number, end: number): void {
    if (wire === WIRE.varint) this.varint(end);
    else if (wire === WIRE.bytes) this.at = this.span(end);
    else if (wire === WIRE.fixed64) this.at += 8;
    else if (wire === WIRE.fixed32) this.at += 4;
    else this.fail(`wire type ${wire} is not one the API server writes`);
    if (this.at > end) this.fail('a field runs past its message');
  }

  string(end: number, shared = false): string {
    const stop = this.span(end);
    const text = shared && this.shared ? this.shared.get(this.bytes, this.at, stop) : this.bytes.toString('utf8', this.at, stop);
    this.at = stop;
    return text;
  }

  message(schema: MessageSchema, end: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (this.at < end) {
      const key = this.varint(end);
      const number = Math.floor(key / 8);
      const wire = key & 7;
      const field = schema[number];
      if (field === undefined) {
        this.skip(wire, end);
        continue;
      }
      const [name, kind] = field;
      if (kind === 'int32' || kind === 'bool') {
        if (wire !== WIRE.varint) this.fail(`field ${name} (${number}) has wire type ${wire}, not a number`);
        const value = kind === 'bool' ? this.varint(end) !== 0 : this.int32(end);
        if (value !== 0) out[name] = value;
        continue;
      }
      if (wire !== WIRE.bytes) this.fail(`field ${name} (${number}) has wire type ${wire}, not a length-delimited one`);
      if (kind === 'string' || kind === 'sharedString') {
        const text = this.string(end, kind === 'sharedString');
        if (text !== '') out[name] = text;
      } else if (kind === 'strings') ((out[name] ??= []) as string[]).push(this.string(end));
      else if (kind === 'stringMap') {
        const stop = this.span(end);
        const entry = this.message(MAP_ENTRY, stop);
        ((out[name] ??= {}) as Record<string, string>)[(entry.key as string | undefined) ?? ''] = (entry.value as string | undefined) ?? '';
      } else {
        const stop = this.span(end);
        if (isRepeated(kind)) ((out[name] ??= []) as unknown[]).push(this.message(kind[0], stop));
        else out[name] = this.message(kind, stop);
      }
    }
    if (this.at !== end) this.fail('a field runs past its message');
    return out;
  }
}

function isRepeated(kind: MessageSchema | readonly [MessageSchema]): kind is readonly [MessageSchema] {
  return Array.isArray(kind);
}

const MAP_ENTRY: MessageSchema = { 1: ['key', 'sharedString'], 2: ['value', 'sharedString'] };

/** The bytes of the object inside the envelope (magic, then runtime.Unknown). */
function unwrap(bytes: Buffer, what: string): { start: number; end: number } {
  const reader = new Reader(bytes, MAGIC.length, what);
  if (bytes.length < MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b)) reader.fail(NOT_PROTOBUF);
  let raw: { start: number; end: number } | undefined;
  while (reader.at < bytes.length) {
    const key = reader.varint(bytes.length);
    const number = Math.floor(key / 8);
    if (number === UNKNOWN.raw && (key & 7) === WIRE.bytes) {
      const end = reader.span(bytes.length);
      raw = { start: reader.at, end };
      reader.at = end;
    } else if (number === UNKNOWN.contentEncoding && (key & 7) === WIRE.bytes) {
      const refusal = encodingRefusal(reader.string(bytes.length));
      if (refusal) reader.fail(refusal);
    } else reader.skip(key & 7, bytes.length);
  }
  return raw ?? reader.fail(NO_OBJECT);
}

/** A list's metadata: the resourceVersion to watch from, and the token of its next page. */
export interface ListMeta {
  readonly resourceVersion?: string;
  readonly continue?: string;
}

/** A field whose bytes have all arrived: its number and wire type, and where its value lies. */
interface Field {
  readonly number: number;
  readonly wire: number;
  readonly start: number;
  readonly stop: number;
}

/**
 * A list read as its bytes arrive: each item goes to `onItem` as soon as its last byte is in, so
 * decoding runs while the API server still sends (it streams list items since Kubernetes 1.33) and no
 * copy of the whole body is kept. The envelope is read as `unwrap` reads it; the list inside it is
 * read field by field. Bytes are joined only once they hold the next whole field.
 */
export class ListDecoder {
  readonly #item: MessageSchema;
  readonly #what: string;
  readonly #onItem: (item: Record<string, unknown>) => void;
  /** Bytes not read yet, and the position of their first in the stream. */
  #bytes: Buffer = Buffer.alloc(0);
  #origin = 0;
  #arrived: Buffer[] = [];
  #arrivedLength = 0;
  /** How many bytes #bytes must hold before reading on. */
  #need = MAGIC.length;
  #magic = false;
  /** Where the list ends in the stream, once its envelope field began. */
  #listEnd: number | undefined;
  #meta: ListMeta = {};
  readonly #shared = new SharedStrings();

  constructor(item: MessageSchema, what: string, onItem: (item: Record<string, unknown>) => void) {
    this.#item = item;
    this.#what = what;
    this.#onItem = onItem;
  }

  push(chunk: Buffer): void {
    this.#arrived.push(chunk);
    this.#arrivedLength += chunk.length;
    if (this.#bytes.length + this.#arrivedLength < this.#need) return;
    this.#bytes = Buffer.concat([this.#bytes, ...this.#arrived]);
    this.#arrived = [];
    this.#arrivedLength = 0;
    this.#read();
  }

  /** The list's metadata, once every byte arrived; throws when the bytes end inside a field or hold no list. */
  end(): ListMeta {
    if (this.#bytes.length + this.#arrivedLength > 0 || (this.#listEnd !== undefined && this.#origin < this.#listEnd)) this.#fail('the bytes end inside a field', this.#origin);
    if (this.#listEnd === undefined) this.#fail(this.#magic ? NO_OBJECT : NOT_PROTOBUF, this.#origin);
    return this.#meta;
  }

  #fail(message: string, at: number): never {
    throw new ProtobufError(`cannot decode ${this.#what}: ${message} at byte ${at}`);
  }

  /** Reads every whole field in #bytes, keeps the rest, and sets how much is needed to read on. */
  #read(): void {
    const bytes = this.#bytes;
    let at = 0;
    if (!this.#magic) {
      if (MAGIC.some((b, i) => bytes[i] !== b)) this.#fail(NOT_PROTOBUF, 0);
      this.#magic = true;
      at = MAGIC.length;
    }
    for (;;) {
      const inList = this.#listEnd !== undefined && this.#origin + at < this.#listEnd;
      const limit = inList ? (this.#listEnd as number) - this.#origin : Number.POSITIVE_INFINITY;
      const field = this.#field(bytes, at, limit, !inList);
      if (field === undefined) break;
      if (!inList && field.number === UNKNOWN.raw && field.wire === WIRE.bytes) {
        if (this.#listEnd !== undefined) this.#fail('the envelope holds two objects', this.#origin + at);
        this.#listEnd = this.#origin + field.stop;
        at = field.start;
        continue;
      }
      const reader = new Reader(bytes, field.start, this.#what, this.#origin, this.#shared);
      if (inList && field.number === 2 && field.wire === WIRE.bytes) this.#onItem(reader.message(this.#item, field.stop));
      else if (inList && field.number === 1 && field.wire === WIRE.bytes) this.#meta = reader.message(LIST_META, field.stop);
      else if (!inList && field.number === UNKNOWN.contentEncoding && field.wire === WIRE.bytes) {
        const refusal = encodingRefusal(bytes.toString('utf8', field.start, field.stop));
        if (refusal) this.#fail(refusal, this.#origin + field.start);
      }
      at = field.stop;
    }
    this.#bytes = bytes.subarray(at);
    this.#origin += at;
  }

  /**
   * The field starting at `at` when all its bytes are in (a length-delimited one that opens the list
   * counts as whole once its length is read); otherwise undefined, with #need set.
   */
  #field(bytes: Buffer, at: number, limit: number, envelope: boolean): Field | undefined {
    const reader = new Reader(bytes, at, this.#what, this.#origin);
    const end = Math.min(bytes.length, limit);
    this.#need = bytes.length - at + 1;
    if (at >= end) return undefined;
    const key = varintAt(reader, end);
    if (key === undefined) return undefined;
    const number = Math.floor(key / 8);
    const wire = key & 7;
    let start = reader.at;
    let stop: number;
    if (wire === WIRE.varint) {
      if (varintAt(reader, end) === undefined) return undefined;
      stop = reader.at;
    } else if (wire === WIRE.bytes) {
      const length = varintAt(reader, end);
      if (length === undefined) return undefined;
      start = reader.at;
      stop = start + length;
      if (envelope && number === UNKNOWN.raw) return { number, wire, start, stop };
    } else if (wire === WIRE.fixed64 || wire === WIRE.fixed32) stop = start + (wire === WIRE.fixed64 ? 8 : 4);
    else return reader.fail(`wire type ${wire} is not one the API server writes`);
    if (stop > limit) reader.fail('a field runs past its message');
    if (stop > bytes.length) {
      this.#need = stop - at;
      return undefined;
    }
    return { number, wire, start, stop };
  }
}

/** A varint that may not have arrived whole: undefined when `end` comes first, the reader left where it was. */
function varintAt(reader: Reader, end: number): number | undefined {
  const from = reader.at;
  for (let at = from; at < end && at < from + 10; at++) {
    if ((reader.bytes[at] as number) < 0x80) return reader.varint(end);
  }
  if (end - from >= 10) return reader.varint(end);
  return undefined;
}

/** A metav1.Status, as an error response carries it. */
export function decodeStatus(bytes: Buffer, what: string): { message?: string; reason?: string; code?: number } {
  const { start, end } = unwrap(bytes, what);
  return new Reader(bytes, start, what).message(STATUS, end);
}
