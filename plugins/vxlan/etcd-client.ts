// etcd v3 through its JSON gateway (etcd 3.4 serves it under /v3/), over Node's built-in fetch.
// The etcd3 npm package is not used: it adds ~110 ms to start-up and loads .proto files from disk,
// which the single-executable bundle cannot ship. Keys and values travel base64; int64s as strings.

export interface KeyValue {
  key: string;
  value: string;
  modRevision: number;
  /** The etcd lease the key is attached to, "0" for none. */
  lease: string;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
}

export class EtcdError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EtcdError';
  }
}

/** The watch's start revision was compacted away: the caller must list again. */
export class WatchCompactedError extends EtcdError {
  readonly compactRevision: number;
  constructor(compactRevision: number) {
    super(`cannot watch: revision compacted up to "${compactRevision}"`);
    this.name = 'WatchCompactedError';
    this.compactRevision = compactRevision;
  }
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined): string => Buffer.from(text ?? '', 'base64').toString();

/** The end of the key range holding every key that starts with `prefix` (etcd's "prefix + 1"). */
export function prefixRangeEnd(prefix: string): string {
  const bytes = Buffer.from(prefix);
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = bytes.subarray(0, i + 1);
      end[i]! += 1;
      return end.toString('base64');
    }
  }
  return b64('\0');
}

function decodeKv(raw: any): KeyValue {
  return { key: unb64(raw.key), value: unb64(raw.value), modRevision: Number(raw.mod_revision ?? 0), lease: String(raw.lease ?? '0') };
}

export interface EtcdClientOptions {
  /** Per-request timeout for unary calls. */
  timeoutMs?: number;
}

export class EtcdClient {
  private readonly endpoints: readonly string[];
  private readonly timeoutMs: number;
  /** Index of the endpoint that answered last; tried first next time. */
  private current = 0;

  constructor(endpoints: readonly string[], options: EtcdClientOptions = {}) {
    if (endpoints.length === 0) throw new EtcdError('cannot create etcd client: no endpoints');
    this.endpoints = endpoints.map((e) => e.replace(/\/+$/, ''));
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  private async post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    let lastError: unknown;
    for (let i = 0; i < this.endpoints.length; i++) {
      const index = (this.current + i) % this.endpoints.length;
      try {
        const response = await fetch(`${this.endpoints[index]}${path}`, { method: 'POST', body: JSON.stringify(body), signal: signal ?? AbortSignal.timeout(this.timeoutMs) });
        if (!response.ok) throw new EtcdError(`cannot call etcd "${path}": HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
        this.current = index;
        return response;
      } catch (error) {
        lastError = error;
      }
    }
    const detail = lastError instanceof Error ? (lastError.cause instanceof Error ? lastError.cause.message : lastError.message) : String(lastError);
    throw new EtcdError(`cannot reach etcd at "${this.endpoints.join(',')}": ${detail}`, { cause: lastError });
  }

  private async call(path: string, body: unknown): Promise<any> {
    return (await this.post(path, body)).json();
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const reply = await this.call('/v3/kv/range', { key: b64(key) });
    return reply.kvs?.[0] ? decodeKv(reply.kvs[0]) : undefined;
  }

  /** Every key under `prefix`, with the revision the listing reflects (watch from revision + 1). */
  async list(prefix: string): Promise<{ revision: number; kvs: KeyValue[] }> {
    const reply = await this.call('/v3/kv/range', { key: b64(prefix), range_end: prefixRangeEnd(prefix) });
    return { revision: Number(reply.header?.revision ?? 0), kvs: (reply.kvs ?? []).map(decodeKv) };
  }

  /**
   * Puts the key attached to `lease` only if it is absent (modRevision 0) or unchanged since
   * `modRevision`; returns whether it was written.
   */
  async putIf(key: string, value: string, options: { lease: string; modRevision: number }): Promise<boolean> {
    const compare =
      options.modRevision === 0
        ? { key: b64(key), target: 'VERSION', result: 'EQUAL', version: '0' }
        : { key: b64(key), target: 'MOD', result: 'EQUAL', mod_revision: String(options.modRevision) };
    const reply = await this.call('/v3/kv/txn', { compare: [compare], success: [{ request_put: { key: b64(key), value: b64(value), lease: options.lease } }] });
    return reply.succeeded === true;
  }


  async grantLease(ttlSeconds: number): Promise<string> {
    const reply = await this.call('/v3/lease/grant', { TTL: String(ttlSeconds) });
    if (!reply.ID) throw new EtcdError(`cannot grant etcd lease: ${reply.error ?? 'no ID in reply'}`);
    return String(reply.ID);
  }

  /** Renews a lease; returns its new TTL in seconds, 0 when the lease no longer exists. */
  async keepAlive(lease: string): Promise<number> {
    const text = await (await this.post('/v3/lease/keepalive', { ID: lease })).text();
    const first = text.split('\n').find((l) => l.trim() !== '');
    return first ? Number(JSON.parse(first).result?.TTL ?? 0) : 0;
  }

  /** A lease's remaining and granted TTL in seconds; a lease that no longer exists has a remaining TTL of -1. */
  async timeToLive(lease: string): Promise<{ ttl: number; grantedTtl: number }> {
    const reply = await this.call('/v3/lease/timetolive', { ID: lease });
    return { ttl: Number(reply.TTL ?? -1), grantedTtl: Number(reply.grantedTTL ?? 0) };
  }

  async revokeLease(lease: string): Promise<void> {
    await this.call('/v3/lease/revoke', { ID: lease });
  }

  /**
   * Streams batches of events under `prefix` from `fromRevision` until `signal` aborts or the stream
   * ends (returns) or breaks (throws). Throws WatchCompactedError when the revision is gone.
   */
  async *watch(prefix: string, fromRevision: number, signal: AbortSignal): AsyncGenerator<WatchEvent[]> {
    const response = await this.post('/v3/watch', { create_request: { key: b64(prefix), range_end: prefixRangeEnd(prefix), start_revision: String(fromRevision) } }, signal);
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line === '') continue;
        const message = JSON.parse(line);
        const result = message.result;
        if (!result) throw new EtcdError(`cannot watch "${prefix}": ${message.error?.message ?? line.slice(0, 200)}`);
        if (result.compact_revision && Number(result.compact_revision) > 0) throw new WatchCompactedError(Number(result.compact_revision));
        if (result.canceled) throw new EtcdError(`cannot watch "${prefix}": canceled: ${result.cancel_reason ?? 'no reason given'}`);
        if (result.events?.length) yield result.events.map((e: any): WatchEvent => ({ type: e.type === 'DELETE' ? 'delete' : 'put', kv: decodeKv(e.kv) }));
      }
    }
  }
}
