import { parse as parseYaml } from 'yaml';
import { readBoundedFile } from '../lib/files.ts';
import type { Logger } from '../lib/log.ts';
import { isDnsSubdomain } from '../lib/names.ts';
import { ChangeTracker, type ObjectKind } from './core/change-tracker.ts';
import { parseClusterObjects, type ClusterObjects } from './core/objects.ts';

// Reads what `kubectl get services,endpointslices,nodes -A -o yaml|json` prints for `weft-proxy
// render`. JSON is parsed natively (faster on big dumps); anything else as YAML. The items then go
// through the daemon's own path, a ChangeTracker fed one event per object, and an object it cannot
// read is skipped with a warning as the daemon skips it, so render prints what the daemon would apply.

/** A kubectl dump of 10,000 Services and their slices is tens of MB; /dev/zero never ends. */
export const MAX_OBJECTS_BYTES = 256 * 1024 * 1024;

const KINDS: ReadonlySet<string> = new Set<ObjectKind>(['Service', 'EndpointSlice', 'Node']);

/** The items of a List (or the one object of a file holding a single object); throws naming what is wrong. */
export function decodeObjectsDocument(text: string, source: string): unknown[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.trim() === '') throw new Error(`cannot read objects file "${source}": it is empty`);
  let document: unknown;
  try {
    document = /^\s*[{[]/.test(body) ? JSON.parse(body) : parseYaml(body);
  } catch (error) {
    throw new Error(`cannot parse objects file "${source}": ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new Error(`cannot read objects file "${source}": it holds no object or List`);
  const top = document as Record<string, unknown>;
  if (top.kind === 'List' || 'items' in top) {
    if (!Array.isArray(top.items)) throw new Error(`cannot read objects file "${source}": its "items" must be a list, got ${JSON.stringify(top.items)}`);
    return top.items;
  }
  return [top];
}

/**
 * Names in a file were never checked by an API server: one holding a newline or a quote would add
 * lines or words to the payload. Anything that is not a DNS name the API server would accept makes
 * the object unreadable.
 */
function nameProblem(item: Record<string, unknown>): string | undefined {
  const meta = (item.metadata ?? {}) as Record<string, unknown>;
  const ports = [...((item.spec as { ports?: unknown } | undefined)?.ports as unknown[] | undefined ?? []), ...((item.ports as unknown[] | undefined) ?? [])];
  const labels = (meta.labels ?? {}) as Record<string, unknown>;
  const names: [string, unknown][] = [
    ['metadata.name', meta.name],
    ['metadata.namespace', meta.namespace],
    ['metadata.labels["kubernetes.io/service-name"]', labels['kubernetes.io/service-name']],
    ...ports.map((p, i): [string, unknown] => [`ports[${i}].name`, (p as { name?: unknown } | null)?.name]),
  ];
  for (const [field, value] of names) {
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string' || !isDnsSubdomain(value)) return `field "${field}" must be a DNS name, got ${JSON.stringify(value).slice(0, 80)}`;
  }
  return undefined;
}

export interface SkippedObject {
  readonly item: string;
  readonly reason: string;
}

/** Feeds the items to a ChangeTracker as the daemon's informers do; returns what it holds and what it skipped. */
export function trackObjects(items: readonly unknown[], hostname: string): { objects: ClusterObjects; skipped: SkippedObject[] } {
  const tracker = new ChangeTracker(hostname);
  const skipped: SkippedObject[] = [];
  items.forEach((raw, i) => {
    const object = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<string, unknown>;
    const kind = object.kind;
    if (typeof kind !== 'string' || !KINDS.has(kind)) return; // other kinds are not the proxy's
    const meta = (object.metadata ?? {}) as { namespace?: unknown; name?: unknown };
    const item = `${kind} ${JSON.stringify(`${String(meta.namespace ?? '')}/${String(meta.name ?? '')}`).slice(0, 100)} (items[${i}])`;
    const problem = nameProblem(object);
    if (problem) return void skipped.push({ item, reason: problem });
    try {
      tracker.apply({ kind: kind as ObjectKind, type: 'upsert', object });
    } catch (error) {
      skipped.push({ item, reason: error instanceof Error ? error.message : String(error) });
    }
  });
  return { objects: tracker.objects(), skipped };
}

/** Reads the file (a FIFO too, bounded to MAX_OBJECTS_BYTES) and tracks its objects; skipped ones are logged as warnings. */
export function loadObjectsFile(path: string, hostname: string, log: Logger): ClusterObjects {
  let text: string;
  try {
    text = readBoundedFile(path, { maxBytes: MAX_OBJECTS_BYTES, allowPipe: true });
  } catch (error) {
    throw new Error(`cannot read objects file "${path}": ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const items = decodeObjectsDocument(text, path);
  const { objects, skipped } = trackObjects(items, hostname);
  for (const s of skipped) log.warn('ignoring an object the proxy cannot read', { object: s.item, error: s.reason });
  log.info('read objects', { file: path, items: items.length, services: objects.services.length, endpointSlices: objects.endpointSlices.length, nodes: objects.nodes.length, skipped: skipped.length });
  return objects;
}

/** Every object of the text, strictly: the first unreadable one throws (tests build their objects with it). */
export function parseObjectsText(text: string, source: string): ClusterObjects {
  return parseClusterObjects({ kind: 'List', items: decodeObjectsDocument(text, source) });
}
