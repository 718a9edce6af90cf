import { parseIpv4, parseIpv4Cidr } from '../../lib/ip.ts';

// The part of the Kubernetes API the proxy reads, as compact records: each Service, EndpointSlice and
// Node is read once as it arrives into a record holding only the fields the proxy uses (no labels,
// annotations or status beyond load-balancer addresses), so the caches never hold API objects.
// Objects the proxy must ignore are recognised here too. Errors name the object and the field.

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePort {
  readonly name: string;
  readonly protocol: Protocol;
  readonly port: number;
  readonly nodePort?: number;
}

export interface Service {
  readonly namespace: string;
  readonly name: string;
  readonly type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** undefined for ExternalName, 'None' for headless. */
  readonly clusterIP?: string;
  readonly ports: readonly ServicePort[];
  readonly externalIPs: readonly string[];
  readonly loadBalancerIPs: readonly string[];
  readonly loadBalancerSourceRanges: readonly string[];
  /** Seconds a client stays pinned to an endpoint; undefined without ClientIP affinity. */
  readonly affinitySeconds?: number;
  readonly externalTrafficLocal: boolean;
  readonly internalTrafficLocal: boolean;
  /** The port a load balancer probes for this node's local endpoints (externalTrafficPolicy Local). */
  readonly healthCheckNodePort?: number;
}

export interface SliceEndpoint {
  /** The endpoint's address: the API defines only the first of `addresses` as the endpoint's. */
  readonly ip: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly nodeName?: string;
}

export interface SlicePort {
  readonly name: string;
  readonly protocol: Protocol;
  readonly port: number;
}

/** An IPv4 EndpointSlice (the proxy ignores the others, see isIgnored). */
export interface EndpointSlice {
  readonly namespace: string;
  readonly name: string;
  /** From the kubernetes.io/service-name label; undefined when the slice belongs to no Service. */
  readonly serviceName?: string;
  readonly ports: readonly SlicePort[];
  readonly endpoints: readonly SliceEndpoint[];
}

export interface Node {
  readonly name: string;
  /** InternalIP and ExternalIP addresses, IPv4 only. */
  readonly addresses: readonly string[];
}

export interface ClusterObjects {
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  readonly nodes: readonly Node[];
}

const DEFAULT_AFFINITY_SECONDS = 10800;
const NO_STRINGS: readonly string[] = Object.freeze([]);

/** Labels the proxy acts on (the same ones kube-proxy reads). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const SERVICE_PROXY_NAME_LABEL = 'service.kubernetes.io/service-proxy-name';

/** The label selectors that ask the API server for only what the proxy serves (as kube-proxy's informers). */
export const SERVICE_SELECTOR = `!${SERVICE_PROXY_NAME_LABEL}`;
export const SLICE_SELECTOR = `!${SERVICE_PROXY_NAME_LABEL},!${HEADLESS_LABEL}`;

export class ObjectError extends Error {
  constructor(object: string, field: string, problem: string) {
    super(`cannot read ${object}: field "${field}" ${problem}`);
    this.name = 'ObjectError';
  }
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Field access that reports the object and path on every mistake. */
class Reader {
  readonly object: string;
  constructor(object: string) {
    this.object = object;
  }
  fail(field: string, problem: string): never {
    throw new ObjectError(this.object, field, problem);
  }
  record(value: unknown, field: string): Json {
    if (value === undefined || value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value)) this.fail(field, 'must be an object');
    return value as Json;
  }
  list(value: unknown, field: string): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) this.fail(field, 'must be a list');
    return value;
  }
  string(value: unknown, field: string, fallback?: string): string {
    if ((value === undefined || value === null) && fallback !== undefined) return fallback;
    if (typeof value !== 'string') this.fail(field, 'must be a string');
    return value;
  }
  port(value: unknown, field: string): number {
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) this.fail(field, `must be a port 1-65535, got ${JSON.stringify(value)}`);
    return value as number;
  }
  ipv4(value: unknown, field: string): string {
    const ip = this.string(value, field);
    if (parseIpv4(ip) === undefined) this.fail(field, `must be an IPv4 address, got "${ip}"`);
    return ip;
  }
  cidr(value: unknown, field: string): string {
    const text = this.string(value, field);
    if (parseIpv4Cidr(text) === undefined) this.fail(field, `must be an IPv4 CIDR, got "${text}"`);
    return text;
  }
  protocol(value: unknown, field: string): Protocol {
    const p = this.string(value, field, 'TCP');
    if (p !== 'TCP' && p !== 'UDP' && p !== 'SCTP') this.fail(field, `must be TCP, UDP or SCTP, got "${p}"`);
    return p;
  }
  labels(meta: Json): Record<string, string> {
    const labels = this.record(meta.labels, 'metadata.labels');
    for (const [k, v] of Object.entries(labels)) this.string(v, `metadata.labels.${k}`);
    return labels as Record<string, string>;
  }
}

function metadata(kind: string, raw: Json): { reader: Reader; meta: Json; namespace: string; name: string } {
  const probe = new Reader(kind);
  const meta = probe.record(raw.metadata, 'metadata');
  const name = probe.string(meta.name, 'metadata.name');
  const namespace = probe.string(meta.namespace, 'metadata.namespace', 'default');
  return { reader: new Reader(`${kind} "${namespace}/${name}"`), meta, namespace, name };
}

const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;

export function parseService(raw: Json): Service {
  const { reader: r, namespace, name } = metadata('Service', raw);
  const spec = r.record(raw.spec, 'spec');
  const status = r.record(raw.status, 'status');
  const type = r.string(spec.type, 'spec.type', 'ClusterIP');
  if (!(SERVICE_TYPES as readonly string[]).includes(type)) r.fail('spec.type', `must be one of ${SERVICE_TYPES.join(', ')}, got "${type}"`);
  const rawIP = spec.clusterIP === undefined || spec.clusterIP === '' ? undefined : r.string(spec.clusterIP, 'spec.clusterIP');
  const clusterIP = rawIP === undefined || rawIP === 'None' ? rawIP : r.ipv4(rawIP, 'spec.clusterIP');
  const ports = r.list(spec.ports, 'spec.ports').map((value, i): ServicePort => {
    const field = `spec.ports[${i}]`;
    const p = r.record(value, field);
    const nodePort = p.nodePort === undefined || p.nodePort === null ? undefined : r.port(p.nodePort, `${field}.nodePort`);
    return { name: r.string(p.name, `${field}.name`, ''), protocol: r.protocol(p.protocol, `${field}.protocol`), port: r.port(p.port, `${field}.port`), ...(nodePort ? { nodePort } : {}) };
  });
  const ingress = r.record(status.loadBalancer, 'status.loadBalancer').ingress;
  const loadBalancerIPs = r
    .list(ingress, 'status.loadBalancer.ingress')
    .map((value, i) => r.record(value, `status.loadBalancer.ingress[${i}]`).ip)
    .flatMap((ip, i) => (ip === undefined ? [] : [r.ipv4(ip, `status.loadBalancer.ingress[${i}].ip`)]));
  const healthCheckNodePort = spec.healthCheckNodePort === undefined || spec.healthCheckNodePort === null ? undefined : r.port(spec.healthCheckNodePort, 'spec.healthCheckNodePort');
  let affinitySeconds: number | undefined;
  if (r.string(spec.sessionAffinity, 'spec.sessionAffinity', 'None') === 'ClientIP') {
    const timeout = r.record(r.record(spec.sessionAffinityConfig, 'spec.sessionAffinityConfig').clientIP, 'spec.sessionAffinityConfig.clientIP').timeoutSeconds;
    if (timeout !== undefined && (!Number.isInteger(timeout) || (timeout as number) < 1 || (timeout as number) > 86400)) {
      r.fail('spec.sessionAffinityConfig.clientIP.timeoutSeconds', `must be 1-86400, got ${JSON.stringify(timeout)}`);
    }
    affinitySeconds = (timeout as number | undefined) ?? DEFAULT_AFFINITY_SECONDS;
  }
  const externalIPs = r.list(spec.externalIPs, 'spec.externalIPs').map((ip, i) => r.ipv4(ip, `spec.externalIPs[${i}]`));
  const sourceRanges = r.list(spec.loadBalancerSourceRanges, 'spec.loadBalancerSourceRanges').map((c, i) => r.cidr(c, `spec.loadBalancerSourceRanges[${i}]`));
  return {
    namespace,
    name,
    type: type as Service['type'],
    ...(clusterIP !== undefined ? { clusterIP } : {}),
    ports,
    externalIPs: externalIPs.length > 0 ? externalIPs : NO_STRINGS,
    loadBalancerIPs: loadBalancerIPs.length > 0 ? loadBalancerIPs : NO_STRINGS,
    loadBalancerSourceRanges: sourceRanges.length > 0 ? sourceRanges : NO_STRINGS,
    ...(affinitySeconds !== undefined ? { affinitySeconds } : {}),
    externalTrafficLocal: r.string(spec.externalTrafficPolicy, 'spec.externalTrafficPolicy', 'Cluster') === 'Local',
    internalTrafficLocal: r.string(spec.internalTrafficPolicy, 'spec.internalTrafficPolicy', 'Cluster') === 'Local',
    ...(healthCheckNodePort ? { healthCheckNodePort } : {}),
  };
}

/** Node names repeat across every endpoint of a node: one copy each instead of one per endpoint. */
const nodeNames = new Map<string, string>();
function shared(name: string): string {
  const known = nodeNames.get(name);
  if (known !== undefined) return known;
  nodeNames.set(name, name);
  return name;
}

/** A condition the API may leave unset (then `fallback`). */
function condition(r: Reader, conditions: Json, name: string, fallback: boolean, i: number): boolean {
  const value = conditions[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') r.fail(`endpoints[${i}].conditions.${name}`, 'must be a boolean');
  return value as boolean;
}

/**
 * One endpoint of a slice; undefined when it has no address. A list holds a slice per Service and ten
 * thousands of endpoints: field paths are built only for an error.
 */
function sliceEndpoint(r: Reader, value: unknown, i: number): SliceEndpoint | undefined {
  const e = isRecord(value) ? value : r.record(value, `endpoints[${i}]`);
  const c = isRecord(e.conditions) ? e.conditions : r.record(e.conditions, `endpoints[${i}].conditions`);
  // The API defines an unset ready as ready, an unset serving as equal to ready.
  const ready = condition(r, c, 'ready', true, i);
  const addresses = Array.isArray(e.addresses) ? (e.addresses as unknown[]) : r.list(e.addresses, `endpoints[${i}].addresses`);
  for (let j = 0; j < addresses.length; j++) {
    const a = addresses[j];
    if (typeof a !== 'string' || parseIpv4(a) === undefined) r.ipv4(a, `endpoints[${i}].addresses[${j}]`);
  }
  const ip = addresses[0] as string | undefined;
  if (ip === undefined) return undefined;
  const nodeName = e.nodeName === undefined || e.nodeName === null ? undefined : typeof e.nodeName === 'string' ? e.nodeName : r.string(e.nodeName, `endpoints[${i}].nodeName`);
  return { ip, ready, serving: condition(r, c, 'serving', ready, i), terminating: condition(r, c, 'terminating', false, i), ...(nodeName ? { nodeName: shared(nodeName) } : {}) };
}

export function parseEndpointSlice(raw: Json): EndpointSlice {
  const { reader: r, meta, namespace, name } = metadata('EndpointSlice', raw);
  const labels = r.labels(meta);
  const addressType = r.string(raw.addressType, 'addressType');
  if (addressType !== 'IPv4') r.fail('addressType', `must be IPv4 (the proxy ignores other slices), got "${addressType}"`);
  const ports = r.list(raw.ports, 'ports').map((value, i): SlicePort => {
    const p = r.record(value, `ports[${i}]`);
    return { name: r.string(p.name, `ports[${i}].name`, ''), protocol: r.protocol(p.protocol, `ports[${i}].protocol`), port: r.port(p.port, `ports[${i}].port`) };
  });
  const endpoints: SliceEndpoint[] = [];
  const listed = r.list(raw.endpoints, 'endpoints');
  for (let i = 0; i < listed.length; i++) {
    const endpoint = sliceEndpoint(r, listed[i], i);
    if (endpoint) endpoints.push(endpoint);
  }
  const serviceName = labels[SERVICE_NAME_LABEL];
  return { namespace, name, ...(serviceName ? { serviceName } : {}), ports, endpoints };
}

/**
 * Objects the proxy leaves alone, as kube-proxy does: Services another proxy serves
 * (service-proxy-name), EndpointSlices of headless Services and slices that are not IPv4. The
 * daemon asks the API server not to send most of them (SERVICE_SELECTOR, SLICE_SELECTOR); one that
 * still arrives, or one that gains such a label, counts as deleted.
 */
export function isIgnored(kind: 'Service' | 'EndpointSlice', raw: Json): boolean {
  const { reader: r, meta } = metadata(kind, raw);
  const labels = r.labels(meta);
  if (SERVICE_PROXY_NAME_LABEL in labels) return true;
  return kind === 'EndpointSlice' && (HEADLESS_LABEL in labels || raw.addressType !== 'IPv4');
}

export function parseNode(raw: Json): Node {
  const { reader: r, name } = metadata('Node', raw);
  const status = r.record(raw.status, 'status');
  const addresses = r.list(status.addresses, 'status.addresses').flatMap((value, i) => {
    const a = r.record(value, `status.addresses[${i}]`);
    const type = r.string(a.type, `status.addresses[${i}].type`);
    const address = r.string(a.address, `status.addresses[${i}].address`);
    return (type === 'InternalIP' || type === 'ExternalIP') && parseIpv4(address) !== undefined ? [address] : [];
  });
  return { name, addresses };
}

/** Sorts the items of a `kind: List` (or a single object) into Services, EndpointSlices and Nodes; other kinds and ignored objects are skipped. */
export function parseClusterObjects(document: unknown): ClusterObjects {
  const top = new Reader('document').record(document, '(top level)');
  const items = top.kind === 'List' || Array.isArray(top.items) ? new Reader('List').list(top.items, 'items') : [top];
  const services: Service[] = [];
  const endpointSlices: EndpointSlice[] = [];
  const nodes: Node[] = [];
  items.forEach((item, i) => {
    const raw = new Reader('List').record(item, `items[${i}]`);
    if ((raw.kind === 'Service' || raw.kind === 'EndpointSlice') && isIgnored(raw.kind, raw)) return;
    if (raw.kind === 'Service') services.push(parseService(raw));
    else if (raw.kind === 'EndpointSlice') endpointSlices.push(parseEndpointSlice(raw));
    else if (raw.kind === 'Node') nodes.push(parseNode(raw));
  });
  return { services, endpointSlices, nodes };
}
