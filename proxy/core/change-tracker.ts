import { isDeepStrictEqual } from 'node:util';
import { isIgnored, parseEndpointSlice, parseNode, parseService, type ClusterObjects, type EndpointSlice, type Node, type Service } from './objects.ts';
import { serviceKey } from './state.ts';

// Turns watch events into "which Services changed since the last sync, from what to what" (kube-proxy's
// change trackers): it keeps the compact record of every Service and EndpointSlice and of this node's
// Node, drops updates that change nothing the proxy reads (status heartbeats, resourceVersion bumps),
// and remembers, for each Service touched since the last sync, its records as that sync applied them.
// No I/O. A sync takes the changes; the records stay for the next one.

/** EndpointSlice annotation: when the change that produced this slice version happened (network programming latency). */
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';

export type ObjectKind = 'Service' | 'EndpointSlice' | 'Node';

export interface ChangeEvent {
  readonly kind: ObjectKind;
  readonly type: 'upsert' | 'delete';
  /** The object as the API server sent it (JSON). */
  readonly object: Record<string, unknown>;
}

/** A Service's record and its slices' records. */
export interface ServiceRecords {
  readonly service?: Service;
  readonly slices: readonly EndpointSlice[];
}

export interface ServiceChange {
  /** As the last sync saw them. */
  readonly before: ServiceRecords;
  readonly after: ServiceRecords;
}

export interface Changes {
  /** By `namespace/name`: the Services whose rules may differ. */
  readonly services: ReadonlyMap<string, ServiceChange>;
  /** The Node changed (its addresses feed `--nodeport-addresses primary`): every Service is affected. */
  readonly node: boolean;
  /** Trigger times (ms since the epoch) of the EndpointSlice changes included. */
  readonly triggerTimes: readonly number[];
  /** When the oldest change arrived (ms, the tracker's clock); undefined without changes. */
  readonly since?: number;
}

const NO_SLICES: readonly EndpointSlice[] = Object.freeze([]);

function objectKey(object: Record<string, unknown>): string {
  const meta = (object.metadata ?? {}) as { namespace?: unknown; name?: unknown };
  return serviceKey(typeof meta.namespace === 'string' ? meta.namespace : '', typeof meta.name === 'string' ? meta.name : '');
}

function triggerTime(object: Record<string, unknown>): number | undefined {
  const annotations = ((object.metadata ?? {}) as { annotations?: Record<string, unknown> }).annotations ?? {};
  const value = annotations[TRIGGER_TIME_ANNOTATION];
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

function owner(slice: EndpointSlice): string | undefined {
  return slice.serviceName === undefined ? undefined : serviceKey(slice.namespace, slice.serviceName);
}

export class ChangeTracker {
  readonly #hostname: string;
  readonly #now: () => number;
  readonly #services = new Map<string, Service>();
  readonly #slices = new Map<string, EndpointSlice>();
  /** Slices by the Service they belong to, so one Service's records are found without a scan. */
  readonly #slicesOf = new Map<string, EndpointSlice[]>();
  #node: Node | undefined;
  #pending = new Map<string, ServiceRecords>();
  #nodeChanged = false;
  #triggerTimes: number[] = [];
  #since: number | undefined;

  constructor(hostname: string, now: () => number = () => performance.now()) {
    this.#hostname = hostname;
    this.#now = now;
  }

  /**
   * Records one event; true when it changed something the proxy reads. Throws ObjectError for an
   * object it cannot read, keeping the previous record (the last good state keeps being served).
   */
  apply(event: ChangeEvent): boolean {
    const key = objectKey(event.object);
    if (event.kind === 'Node') return this.#applyNode(event);
    const gone = event.type === 'delete' || isIgnored(event.kind, event.object);
    if (event.kind === 'Service') {
      const after = gone ? undefined : parseService(event.object);
      const before = this.#services.get(key);
      if (isDeepStrictEqual(before, after)) return false;
      this.#touch(key);
      if (after) this.#services.set(key, after);
      else this.#services.delete(key);
      return true;
    }
    const after = gone ? undefined : parseEndpointSlice(event.object);
    const before = this.#slices.get(key);
    if (isDeepStrictEqual(before, after)) return false;
    const owners = new Set([before && owner(before), after && owner(after)].filter((o): o is string => o !== undefined));
    for (const service of owners) this.#touch(service);
    if (before) this.#removeSlice(key, before);
    if (after) this.#addSlice(key, after);
    const time = after && triggerTime(event.object);
    if (time !== undefined) this.#triggerTimes.push(time);
    return true;
  }

  /** A (re)list of `kind` held only `keys` (`namespace/name`): the others are gone. True when some were. */
  retain(kind: ObjectKind, keys: ReadonlySet<string>): boolean {
    let changed = false;
    const drop = (metadata: { namespace?: string; name: string }) => {
      changed = this.apply({ kind, type: 'delete', object: { metadata } }) || changed;
    };
    if (kind === 'Service') for (const [key, s] of [...this.#services]) if (!keys.has(key)) drop(s);
    if (kind === 'EndpointSlice') for (const [key, s] of [...this.#slices]) if (!keys.has(key)) drop(s);
    if (kind === 'Node' && this.#node && !keys.has(serviceKey('', this.#node.name))) drop({ name: this.#node.name });
    return changed;
  }

  #applyNode(event: ChangeEvent): boolean {
    const node = event.type === 'delete' ? undefined : parseNode(event.object);
    if (node !== undefined && node.name !== this.#hostname) return false;
    if (isDeepStrictEqual(node, this.#node)) return false;
    this.#node = node;
    this.#nodeChanged = true;
    this.#since ??= this.#now();
    return true;
  }

  /** First change to a Service since the last sync: keep its records as that sync applied them. */
  #touch(service: string): void {
    this.#since ??= this.#now();
    if (!this.#pending.has(service)) this.#pending.set(service, this.records(service));
  }

  #addSlice(key: string, slice: EndpointSlice): void {
    this.#slices.set(key, slice);
    const service = owner(slice);
    if (service === undefined) return;
    // A new array each time: records handed out earlier (a pending "before") must not change.
    this.#slicesOf.set(service, [...(this.#slicesOf.get(service) ?? []), slice]);
  }

  #removeSlice(key: string, slice: EndpointSlice): void {
    this.#slices.delete(key);
    const service = owner(slice);
    if (service === undefined) return;
    const rest = (this.#slicesOf.get(service) ?? []).filter((s) => s !== slice);
    if (rest.length > 0) this.#slicesOf.set(service, rest);
    else this.#slicesOf.delete(service);
  }

  /** The current records of one Service. */
  records(service: string): ServiceRecords {
    const record = this.#services.get(service);
    const slices = this.#slicesOf.get(service) ?? NO_SLICES;
    return record ? { service: record, slices } : { slices };
  }

  /** Every Service with its slices, in the order they arrived. */
  *allServices(): IterableIterator<[string, ServiceRecords]> {
    for (const [key, service] of this.#services) yield [key, { service, slices: this.#slicesOf.get(key) ?? NO_SLICES }];
  }

  /** Every record held, as one snapshot (`weft-proxy render` reads a file through the tracker). */
  objects(): ClusterObjects {
    return { services: [...this.#services.values()], endpointSlices: [...this.#slices.values()], nodes: this.#node ? [this.#node] : [] };
  }

  get serviceCount(): number {
    return this.#services.size;
  }

  get node(): Node | undefined {
    return this.#node;
  }

  hasChanges(): boolean {
    return this.#pending.size > 0 || this.#nodeChanged;
  }

  /** Hands the changes since the last call to a sync and starts collecting anew. */
  takeChanges(): Changes {
    const services = new Map<string, ServiceChange>();
    for (const [key, before] of this.#pending) services.set(key, { before, after: this.records(key) });
    const changes: Changes = { services, node: this.#nodeChanged, triggerTimes: this.#triggerTimes, ...(this.#since !== undefined ? { since: this.#since } : {}) };
    this.#pending = new Map();
    this.#nodeChanged = false;
    this.#triggerTimes = [];
    this.#since = undefined;
    return changes;
  }

  /** A sync that failed applied nothing: its changes are pending again, from the records it started from. */
  giveBack(changes: Changes): void {
    for (const [key, change] of changes.services) this.#pending.set(key, change.before);
    this.#nodeChanged ||= changes.node;
    this.#triggerTimes.push(...changes.triggerTimes);
    if (changes.since !== undefined) this.#since = Math.min(changes.since, this.#since ?? Infinity);
  }
}
