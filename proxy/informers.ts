import type { KubeConfig } from '@kubernetes/client-node';
import { listWatch, type Collection, type ListWatch } from '../lib/kube/list-watch.ts';
import type { Logger } from '../lib/log.ts';
import type { ChangeEvent, ObjectKind } from './core/change-tracker.ts';
import { SERVICE_SELECTOR, SLICE_SELECTOR } from './core/objects.ts';
import { ENDPOINT_SLICE, SERVICE } from './protobuf-schemas.ts';

// The proxy's view of the API: Services and EndpointSlices with the label selectors kube-proxy uses
// (another proxy's Services and headless Services' slices are never sent), and this node's Node.
// Each object goes to `onEvent` as it is decoded; after each (re)list, `onListed` says which objects
// exist, so those gone meanwhile are dropped. A failed watch is retried and resumed from its last
// resourceVersion: a restarted API server costs a reconnect, not a re-list or a flush of working rules.

export interface InformerHandlers {
  readonly onEvent: (event: ChangeEvent) => void;
  readonly onListed: (kind: ObjectKind, keys: ReadonlySet<string>) => void;
}

export interface Informers {
  /** Settles once every kind has been listed at least once (the first full sync waits for it). */
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

function collections(hostname: string): [ObjectKind, Collection][] {
  return [
    ['Service', { path: '/api/v1/services', labelSelector: SERVICE_SELECTOR, protobuf: SERVICE }],
    ['EndpointSlice', { path: '/apis/discovery.k8s.io/v1/endpointslices', labelSelector: SLICE_SELECTOR, protobuf: ENDPOINT_SLICE }],
    ['Node', { path: '/api/v1/nodes', fieldSelector: `metadata.name=${hostname}` }],
  ];
}

export function startInformers(config: KubeConfig, options: { hostname: string; log: Logger } & InformerHandlers): Informers {
  const { log } = options;
  const watches: ListWatch[] = collections(options.hostname).map(([kind, collection]) => {
    let failures = 0;
    return listWatch(config, collection, {
      onObject: (type, object) => {
        if (failures > 0) log.info('watch resumed', { kind, failures });
        failures = 0;
        options.onEvent({ kind, type, object });
      },
      onListed: (keys) => options.onListed(kind, keys),
      onError: (error, retryInMs) => {
        failures += 1;
        log.warn('watch failed, retrying', { kind, retryInMs, error: error instanceof Error ? error.message : String(error) });
      },
    });
  });
  return {
    synced: Promise.all(watches.map((w) => w.listed)).then(() => undefined),
    stop: async () => {
      await Promise.all(watches.map((w) => w.stop()));
    },
  };
}
