import { parseEndpointSlice, parseNode, parseService, type ClusterObjects, type EndpointSlice, type Node, type Service } from './objects.ts';

// Turns watch events into "which Services changed since the last sync" (kube-proxy's change trackers):
// it keeps the parsed current value of every Service and EndpointSlice and of this node's Node, drops
// updates that change nothing the proxy reads (status heartbeats, resourceVersion bumps), and does no
// I/O. A sync takes the changes; the objects stay for the next one.

/** EndpointSlice annotation: when the change that produced this slice version happened (network programming latency). */
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';

export type ObjectKind = 'Service' | 'EndpointSlice' | 'Node';

export interface ChangeEvent {
  readonly kind: ObjectKind;
  readonly type: 'upsert' | 'delete';
  /** The object as the API server sent it (JSON). */
  readonly object: Record<string, unknown>;
}

export interface Changes {
  /** `namespace/name` of Services whose rules may differ. */
  readonly services: ReadonlySet<string>;
  /** The Node changed (its addresses feed `--nodeport-addresses primary`): every Service is affected. */
  readonly node: boolean;
  /** Trigger times (ms since the epoch) of the EndpointSlice changes included. */
  readonly triggerTimes: readonly number[];
}

interface Tracked<T> {
  readonly value: T;
  /** The value serialized: equal text means an update the proxy can ignore. */
  readonly text: string;
}

function objectKey(object: Record<string, unknown>): string {
  const meta = (object.metadata ?? {}) as { namespace?: unknown; name?: unknown };
  return `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${typeof meta.name === 'string' ? meta.name : ''}`;
}

function triggerTime(object: Record<string, unknown>): number | undefined {
  const annotations = ((object.metadata ?? {}) as { annotations?: Record<string, unknown> }).annotations ?? {};
  const value = annotations[TRIGGER_TIME_ANNOTATION];
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

function sliceService(slice: EndpointSlice): string | undefined {
  return slice.serviceName === undefined ? undefined : `${slice.namespace}/${slice.serviceName}`;
}

export class ChangeTracker {
  readonly #hostname: string;
  readonly #services = new Map<string, Tracked<Service>>();
  readonly #slices = new Map<string, Tracked<EndpointSlice>>();
  #node: Tracked<Node> | undefined;
  #changed = new Set<string>();
  #nodeChanged = false;
  #triggerTimes: number[] = [];

  constructor(hostname: string) {
    this.#hostname = hostname;
  }

  /**
   * Records one event; true when it changed something the proxy reads. Throws ObjectError for an
   * object it cannot read, keeping the previous value (the last good state keeps being served).
   */
  apply(event: ChangeEvent): boolean {
    const key = objectKey(event.object);
    if (event.kind === 'Service') {
      const changed = this.#record(this.#services, key, event.type === 'delete' ? undefined : parseService(event.object));
      if (changed) this.#changed.add(key);
      return changed;
    }
    if (event.kind === 'EndpointSlice') {
      const before = this.#slices.get(key)?.value;
      const after = event.type === 'delete' ? undefined : parseEndpointSlice(event.object);
      if (!this.#record(this.#slices, key, after)) return false;
      for (const service of [before && sliceService(before), after && sliceService(after)]) if (service) this.#changed.add(service);
      const time = after && triggerTime(event.object);
      if (time !== undefined) this.#triggerTimes.push(time);
      return true;
    }
    const node = event.type === 'delete' ? undefined : parseNode(event.object);
    if (node !== undefined && node.name !== this.#hostname) return false;
    const text = node === undefined ? undefined : JSON.stringify(node);
    if (text === this.#node?.text) return false;
    this.#node = node === undefined || text === undefined ? undefined : { value: node, text };
    this.#nodeChanged = true;
    return true;
  }

  #record<T>(map: Map<string, Tracked<T>>, key: string, value: T | undefined): boolean {
    const text = value === undefined ? undefined : JSON.stringify(value);
    if (text === map.get(key)?.text) return false;
    if (value === undefined || text === undefined) map.delete(key);
    else map.set(key, { value, text });
    return true;
  }

  hasChanges(): boolean {
    return this.#changed.size > 0 || this.#nodeChanged;
  }

  /** Hands the changes since the last call to a sync and starts collecting anew. */
  takeChanges(): Changes {
    const changes: Changes = { services: this.#changed, node: this.#nodeChanged, triggerTimes: this.#triggerTimes };
    this.#changed = new Set();
    this.#nodeChanged = false;
    this.#triggerTimes = [];
    return changes;
  }

  objects(): ClusterObjects {
    return {
      services: [...this.#services.values()].map((t) => t.value),
      endpointSlices: [...this.#slices.values()].map((t) => t.value),
      nodes: this.#node ? [this.#node.value] : [],
    };
  }
}
