import { CoreV1Api, DiscoveryV1Api, ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../lib/log.ts';
import { backoffDelayMs } from '../lib/backoff.ts';
import type { ChangeEvent, ObjectKind } from './change-tracker.ts';

// The proxy's view of the API: Services, EndpointSlices and its own Node through client-node's
// ListWatch (list, then watch from that resourceVersion; a 410 Gone re-lists). ListWatch stops on any
// other error (API server down, dropped connection before the first event): a stopped one is restarted
// here with a bounded backoff, from its last resourceVersion, so a restarted API server costs a watch
// reconnect, not a re-list or a flush of working rules.

const RETRY = { baseMs: 250, maxMs: 5_000 };

export interface Informers {
  /** Settles once every kind has been listed at least once (the first full sync waits for it). */
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

interface Source {
  readonly kind: ObjectKind;
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<KubernetesObject>>;
  readonly fieldSelector?: string;
}

/**
 * Drops metadata.managedFields, which the proxy never reads: ListWatch caches every object it sees,
 * and server-side-apply bookkeeping is a large share of each Service and EndpointSlice.
 */
function withoutManagedFields(object: KubernetesObject): KubernetesObject {
  if (object?.metadata?.managedFields) delete object.metadata.managedFields;
  return object;
}

/** Typed list results back to the JSON the watch delivers (dates as strings), so both parse alike. */
function asJson<T>(list: T): KubernetesListObject<KubernetesObject> {
  const json = JSON.parse(JSON.stringify(list)) as KubernetesListObject<KubernetesObject>;
  json.items.forEach(withoutManagedFields);
  return json;
}

/** A Watch whose events arrive without managedFields, before ListWatch caches them. */
class TrimmedWatch extends Watch {
  override watch(...[path, queryParams, callback, done]: Parameters<Watch['watch']>): ReturnType<Watch['watch']> {
    return super.watch(path, queryParams, (phase, object, raw) => callback(phase, withoutManagedFields(object), raw), done);
  }
}

function sources(config: KubeConfig, hostname: string): Source[] {
  const core = config.makeApiClient(CoreV1Api);
  const discovery = config.makeApiClient(DiscoveryV1Api);
  const fieldSelector = `metadata.name=${hostname}`;
  return [
    { kind: 'Service', path: '/api/v1/services', list: async () => asJson(await core.listServiceForAllNamespaces()) },
    { kind: 'EndpointSlice', path: '/apis/discovery.k8s.io/v1/endpointslices', list: async () => asJson(await discovery.listEndpointSliceForAllNamespaces()) },
    { kind: 'Node', path: '/api/v1/nodes', fieldSelector, list: async () => asJson(await core.listNode({ fieldSelector })) },
  ];
}

export function startInformers(config: KubeConfig, options: { hostname: string; log: Logger; onEvent: (event: ChangeEvent) => void }): Informers {
  const { log, onEvent } = options;
  const watch = new TrimmedWatch(config);
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const informers: ListWatch<KubernetesObject>[] = [];
  const listed = sources(config, options.hostname).map((source) => {
    let markListed: () => void = () => {};
    const done = new Promise<void>((resolve) => (markListed = resolve));
    // ListWatch hands the list's items to its callbacks right after this promise settles, before any
    // macrotask: setImmediate marks the kind listed once they were delivered.
    const list = async () => {
      const result = await source.list();
      setImmediate(markListed);
      return result;
    };
    const informer = new ListWatch<KubernetesObject>(source.path, watch, list, false, undefined, source.fieldSelector);
    const emit = (type: ChangeEvent['type']) => (object: KubernetesObject) => onEvent({ kind: source.kind, type, object: object as unknown as Record<string, unknown> });
    informer.on('add', emit('upsert'));
    informer.on('update', emit('upsert'));
    informer.on('delete', emit('delete'));
    let failures = 0;
    informer.on('connect', () => {
      if (failures > 0) log.info('watch reconnecting', { kind: source.kind, failures });
    });
    informer.on('error', (error: unknown) => {
      if (stopped) return;
      failures += 1;
      const delay = backoffDelayMs(failures - 1, RETRY);
      log.warn('watch failed, retrying', { kind: source.kind, retryInMs: delay, error: error instanceof Error ? error.message : String(error) });
      const timer = setTimeout(() => {
        timers.delete(timer);
        const before = failures;
        // start() also resolves after a failed attempt (reported through 'error'): reset only when none came.
        if (!stopped) void informer.start().then(() => {
          if (failures === before) failures = 0;
        });
      }, delay);
      timers.add(timer);
    });
    informers.push(informer);
    void informer.start();
    return done;
  });
  return {
    synced: Promise.all(listed).then(() => undefined),
    stop: async () => {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
