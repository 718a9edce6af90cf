import { HttpMethod, RequestContext, Watch, type KubeConfig } from '@kubernetes/client-node';
import { getGlobalDispatcher, type Dispatcher } from 'undici';
import { Backoff, sleep } from '../backoff.ts';
import { decodeStatus, ListDecoder, PROTOBUF_CONTENT_TYPE, type ListMeta, type MessageSchema } from './protobuf.ts';

// Follows one API collection without keeping it: lists it page by page, then watches it from the
// list's resourceVersion, handing every object to the caller as it is decoded. The caller keeps what it
// needs (a compact record), so no copy of the API objects stays here. @kubernetes/client-node provides
// the kubeconfig, the credentials and the transport (its Watch, and the same undici fetch with its
// TLS dispatcher for the list pages). A collection that names the fields it needs is listed as
// protobuf (as client-go lists for kube-proxy) and read into JSON-shaped objects while its bytes
// arrive; a server that answers JSON instead is read as JSON once whole. Watches stay JSON: their
// events are small. A watch that ends is resumed at once from the last resourceVersion seen
// (bookmarks keep it fresh): the server ends watches after timeoutSeconds, and client-node's Watch
// ends one that stayed silent for 30 s. A 410 Gone lists again; other failures retry with a bounded
// backoff.

export interface Collection {
  /** e.g. /api/v1/services */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** The fields of an item to read from a protobuf list; without it, lists are JSON. */
  readonly protobuf?: MessageSchema;
}

export interface ListWatchHandlers {
  /** One object as the API server sent it (JSON). */
  onObject(type: 'upsert' | 'delete', object: Record<string, unknown>): void;
  /** A list ended: the `namespace/name` of every object it held; any other object seen before is gone. */
  onListed(keys: ReadonlySet<string>): void;
  /** A list or watch failed and is retried in `retryInMs`. */
  onError(error: unknown, retryInMs: number): void;
}

export interface ListWatch {
  /** Settles once the first list was handed over. */
  readonly listed: Promise<void>;
  stop(): Promise<void>;
}

const PAGE_SIZE = 1000;
const RETRY = { baseMs: 250, maxMs: 5_000 };

type Json = Record<string, unknown>;

class GoneError extends Error {}

function objectKey(object: Json): string {
  const meta = (object.metadata ?? {}) as { namespace?: unknown; name?: unknown };
  return `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${typeof meta.name === 'string' ? meta.name : ''}`;
}

function resourceVersion(object: unknown): string | undefined {
  const rv = ((object as Json | undefined)?.metadata as Json | undefined)?.resourceVersion;
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
}

function query(collection: Collection, extra: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ labelSelector: collection.labelSelector, fieldSelector: collection.fieldSelector, ...extra })) if (v !== undefined) params.set(k, v);
  return params.toString();
}

/**
 * The query of one list page. Until an object went to the caller, a list may come from the API server's
 * watch cache (resourceVersion=0, as client-go's reflectors start, and without etcd's range reads): a
 * snapshot a little old cannot take the caller back in time, and the watch from its resourceVersion
 * brings it up to date. A later list (after a 410 Gone or a failed page) reads the current state. A
 * continued page carries its token only: the API refuses a resourceVersion beside it.
 */
export function listParams(at: { handedOver: boolean; cont: string | undefined }): Record<string, string | undefined> {
  if (at.cont !== undefined) return { limit: String(PAGE_SIZE), continue: at.cont };
  return { limit: String(PAGE_SIZE), resourceVersion: at.handedOver ? undefined : '0' };
}

/** Where a GET's body goes, chunk by chunk, chosen once its status and content type are known. */
export interface BodySink {
  push(chunk: Buffer): void;
}

/**
 * A GET with the kubeconfig's credentials and TLS, through client-node's undici dispatcher; `open`
 * picks where the body goes, and each chunk goes there as the HTTP parser hands it over. A list of
 * 10,000 Services passes through no stream: read through fetch's web streams, their machinery took a
 * tenth of the listing's CPU. The answer is asked for uncompressed, as Kubernetes' own control plane
 * components ask (DisableCompression): on a cluster network gzip costs the API server and the node
 * more CPU than the bytes it saves (listing 10,000 Services and their slices here: 0.69-0.81 s
 * uncompressed against 0.91-1.03 s with gzip). Settles once the body ended; rejects with what the
 * sink threw, or with the transport's error.
 */
export async function apiGet(config: KubeConfig, url: string, options: { accept: string; signal?: AbortSignal; open: (status: number, contentType: string) => BodySink }): Promise<void> {
  const ctx = new RequestContext(url, HttpMethod.GET);
  await config.applySecurityAuthentication(ctx);
  const dispatcher = (ctx.getDispatcher() as Dispatcher | undefined) ?? getGlobalDispatcher();
  const target = new URL(url);
  const headers = { ...ctx.getHeaders(), accept: options.accept, 'accept-encoding': 'identity' };
  const { signal } = options;
  return new Promise<void>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let sink: BodySink | undefined;
    let failure: unknown;
    const onAbort = () => controller?.abort(signal?.reason as Error);
    const settle = (error?: unknown) => {
      signal?.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const fail = (c: Dispatcher.DispatchController, error: unknown) => {
      failure ??= error;
      c.abort(error instanceof Error ? error : new Error(String(error)));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    dispatcher.dispatch(
      { origin: target.origin, path: `${target.pathname}${target.search}`, method: 'GET', headers },
      {
        onRequestStart: (c) => {
          controller = c;
          if (signal?.aborted) c.abort(signal.reason as Error);
        },
        onResponseStart: (c, status, responseHeaders) => {
          try {
            sink = options.open(status, String(responseHeaders['content-type'] ?? ''));
          } catch (error) {
            fail(c, error);
          }
        },
        onResponseData: (c, chunk) => {
          try {
            sink?.push(chunk);
          } catch (error) {
            fail(c, error);
          }
        },
        onResponseEnd: () => settle(),
        onResponseError: (_c, error) => settle(failure ?? error),
      },
    );
  });
}

/** What an error response says: a Status' message (protobuf), or the start of its text. */
function errorText(body: Buffer, protobuf: boolean): string {
  if (protobuf) {
    try {
      return decodeStatus(body, 'an error response').message ?? '(no message)';
    } catch {
      // Not a Status after all: its text below.
    }
  }
  return body.toString('utf8', 0, 300);
}

export function listWatch(config: KubeConfig, collection: Collection, handlers: ListWatchHandlers): ListWatch {
  const server = config.getCurrentCluster()?.server;
  if (!server) throw new Error('cannot watch the API: the kubeconfig has no current cluster');
  const stopping = new AbortController();
  const watch = new Watch(config);
  let current: AbortController | undefined;
  let markListed: () => void = () => {};
  const listed = new Promise<void>((resolve) => (markListed = resolve));

  const accept = collection.protobuf ? `${PROTOBUF_CONTENT_TYPE}, application/json` : 'application/json';
  // Set once an object went to the caller: every list after that reads the current state.
  let handedOver = false;

  /** Reads one page, handing each item over as it is decoded; returns the page's metadata. */
  const readPage = async (cont: string | undefined, keys: Set<string>): Promise<ListMeta> => {
    const search = query(collection, listParams({ handedOver, cont }));
    const handOver = (item: Json) => {
      keys.add(objectKey(item));
      handedOver = true;
      handlers.onObject('upsert', item);
    };
    let page: { end(): ListMeta } | undefined;
    let refused: { status: number; protobuf: boolean; chunks: Buffer[] } | undefined;
    const open = (status: number, contentType: string): BodySink => {
      const protobuf = collection.protobuf !== undefined && contentType.startsWith(PROTOBUF_CONTENT_TYPE);
      const chunks: Buffer[] = [];
      const collect = { push: (chunk: Buffer) => void chunks.push(chunk) };
      if (status !== 200) {
        refused = { status, protobuf, chunks };
        return collect;
      }
      if (protobuf) return (page = new ListDecoder(collection.protobuf!, `the list of ${collection.path}`, handOver));
      page = {
        end: () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json;
          for (const item of (body.items ?? []) as Json[]) handOver(item);
          return (body.metadata ?? {}) as ListMeta;
        },
      };
      return collect;
    };
    await apiGet(config, `${server}${collection.path}?${search}`, { accept, open, signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(60_000)]) });
    if (refused) {
      if (refused.status === 410) throw new GoneError(`the list of ${collection.path} expired`);
      throw new Error(`cannot list ${collection.path}: HTTP ${refused.status}: ${errorText(Buffer.concat(refused.chunks), refused.protobuf)}`);
    }
    if (!page) throw new Error(`cannot list ${collection.path}: the answer ended before its status`);
    return page.end();
  };

  /** Lists every page; returns the list's resourceVersion. */
  const list = async (): Promise<string> => {
    const keys = new Set<string>();
    let version: string | undefined;
    let cont: string | undefined;
    do {
      const meta = await readPage(cont, keys);
      cont = typeof meta.continue === 'string' && meta.continue !== '' ? meta.continue : undefined;
      version = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : version;
    } while (cont !== undefined && !stopping.signal.aborted);
    handlers.onListed(keys);
    markListed();
    if (version === undefined) throw new Error(`cannot watch ${collection.path}: its list carries no resourceVersion`);
    return version;
  };

  /** Watches from `from` until the server ends the watch; returns the last resourceVersion seen. */
  const watchFrom = (from: string): Promise<string> =>
    new Promise((resolve, reject) => {
      let last = from;
      let failure: Error | undefined;
      // The server ends a watch after timeoutSeconds (spread so watches of many nodes do not end together).
      const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
      const params = Object.fromEntries(new URLSearchParams(query(collection, { resourceVersion: from, allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds) })));
      const onEvent = (type: string, object: unknown) => {
        if (type === 'ERROR') {
          const code = (object as { code?: unknown }).code;
          failure = code === 410 ? new GoneError(`the watch of ${collection.path} expired`) : new Error(`cannot watch ${collection.path}: ${(object as { message?: unknown }).message ?? JSON.stringify(object)}`);
          current?.abort();
          return;
        }
        last = resourceVersion(object) ?? last;
        handedOver = true;
        if (type === 'ADDED' || type === 'MODIFIED') handlers.onObject('upsert', object as Json);
        else if (type === 'DELETED') handlers.onObject('delete', object as Json);
      };
      const done = (error: unknown) => {
        const silent = (error as { name?: unknown } | null)?.name === 'TimeoutError';
        if (failure) reject(failure);
        else if (error && !silent && !stopping.signal.aborted) reject(error);
        else resolve(last);
      };
      watch.watch(collection.path, params, onEvent, done).then((controller) => {
        current = controller;
        if (stopping.signal.aborted) controller.abort();
      }, reject);
    });

  const running = (async () => {
    const backoff = new Backoff(RETRY);
    let version: string | undefined;
    while (!stopping.signal.aborted) {
      try {
        version ??= await list();
        version = await watchFrom(version);
        backoff.reset();
      } catch (error) {
        if (stopping.signal.aborted) break;
        if (error instanceof GoneError) {
          version = undefined;
          continue;
        }
        const delay = backoff.nextDelayMs();
        handlers.onError(error, delay);
        await sleep(delay, stopping.signal);
      }
    }
  })();

  return {
    listed,
    stop: async () => {
      stopping.abort();
      current?.abort();
      await running;
    },
  };
}
