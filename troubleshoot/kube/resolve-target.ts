import { isObject } from '../../lib/json.ts';
import { parseIpv4 } from '../../lib/ip.ts';
import { UsageError } from '../cli/args.ts';
import { formatTarget, portNumber, type Protocol, type Target } from '../model/target.ts';

// pod/NS/NAME, svc/NS/NAME[:PORT] and node/NAME to addresses, from the objects as the API returns them
// (the same JSON through the Kubernetes client on a node and through `kubectl get -o json` in the
// kubectl plugin). Pure: a lookup function in, an address, port, protocol and node out.

export type Lookup = (kind: 'pod' | 'service' | 'node', namespace: string | undefined, name: string) => Promise<unknown>;

export interface Resolved {
  readonly ip: string;
  readonly port?: number;
  readonly proto?: Protocol;
  /** The Node the address lives on (a Pod's spec.nodeName, a Node itself). */
  readonly node?: string;
  /** What the name resolved to, for the output: "svc/web/api:http (10.96.0.10:80/tcp)". */
  readonly label: string;
}

function fail(target: Target, why: string): never {
  throw new UsageError(`cannot resolve "${formatTarget(target)}": ${why}`);
}

function protocolOf(target: Target, value: unknown): Protocol {
  const proto = String(value ?? 'TCP').toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp') fail(target, `its protocol "${String(value)}" is not TCP or UDP`);
  if (target.proto && target.proto !== proto) fail(target, `the port is ${proto.toUpperCase()}, not ${target.proto.toUpperCase()}`);
  return proto;
}

function label(target: Target, r: Omit<Resolved, 'label'>): string {
  return `${formatTarget(target)} (${r.ip}${r.port !== undefined ? `:${r.port}` : ''}${r.proto ? `/${r.proto}` : ''})`;
}

function resolvePod(target: Target, pod: Record<string, unknown>): Omit<Resolved, 'label'> {
  const status = isObject(pod.status) ? pod.status : {};
  const spec = isObject(pod.spec) ? pod.spec : {};
  const ip = typeof status.podIP === 'string' ? status.podIP : undefined;
  if (!ip || parseIpv4(ip) === undefined) fail(target, `the Pod has no IPv4 address yet (phase ${String(status.phase ?? 'unknown')})`);
  if (spec.hostNetwork === true) fail(target, 'the Pod uses the host network: explain to node/NAME instead');
  const node = typeof spec.nodeName === 'string' ? spec.nodeName : undefined;
  if (target.port === undefined) return { ip, ...(node ? { node } : {}), ...(target.proto ? { proto: target.proto } : {}) };
  const number = portNumber(target.port);
  if (number !== undefined) return { ip, port: number, proto: target.proto ?? 'tcp', ...(node ? { node } : {}) };
  const containers = Array.isArray(spec.containers) ? spec.containers.filter(isObject) : [];
  const named = containers.flatMap((c) => (Array.isArray(c.ports) ? c.ports.filter(isObject) : [])).find((p) => p.name === target.port);
  if (!named) fail(target, `the Pod has no container port named "${target.port}"`);
  return { ip, port: Number(named.containerPort), proto: protocolOf(target, named.protocol), ...(node ? { node } : {}) };
}

function resolveService(target: Target, service: Record<string, unknown>): Omit<Resolved, 'label'> {
  const spec = isObject(service.spec) ? service.spec : {};
  const ip = spec.clusterIP;
  if (ip === 'None' || typeof ip !== 'string' || parseIpv4(ip) === undefined) fail(target, 'the Service is headless (no ClusterIP): explain to one of its Pods instead');
  const ports = Array.isArray(spec.ports) ? spec.ports.filter(isObject) : [];
  let port: Record<string, unknown> | undefined;
  if (target.port === undefined) {
    const candidates = ports.filter((p) => !target.proto || String(p.protocol ?? 'TCP').toLowerCase() === target.proto);
    if (candidates.length !== 1) fail(target, `the Service has ${candidates.length === 0 ? 'no such port' : `several ports (${candidates.map((p) => p.name ?? p.port).join(', ')}): name one`}`);
    port = candidates[0];
  } else {
    const number = portNumber(target.port);
    const matching = ports.filter((p) => (number !== undefined ? p.port === number : p.name === target.port));
    port = matching.find((p) => !target.proto || String(p.protocol ?? 'TCP').toLowerCase() === target.proto) ?? matching[0];
    if (!port) fail(target, `the Service has no port ${number !== undefined ? number : `named "${target.port}"`} (it has ${ports.map((p) => `${p.name ?? ''}:${p.port}`).join(', ') || 'none'})`);
  }
  return { ip, port: Number(port?.port), proto: protocolOf(target, port?.protocol) };
}

function resolveNode(target: Target, node: Record<string, unknown>): Omit<Resolved, 'label'> {
  const status = isObject(node.status) ? node.status : {};
  const addresses = Array.isArray(status.addresses) ? status.addresses.filter(isObject) : [];
  const internal = addresses.find((a) => a.type === 'InternalIP' && typeof a.address === 'string' && parseIpv4(a.address) !== undefined);
  if (!internal) fail(target, 'the Node has no IPv4 InternalIP');
  const name = isObject(node.metadata) && typeof node.metadata.name === 'string' ? node.metadata.name : undefined;
  const port = target.port === undefined ? undefined : portNumber(target.port);
  return { ip: String(internal.address), ...(port !== undefined ? { port, proto: target.proto ?? 'tcp' } : target.proto ? { proto: target.proto } : {}), ...(name ? { node: name } : {}) };
}

export async function resolveTarget(target: Target, lookup: Lookup): Promise<Resolved> {
  const ref = target.ref;
  if (ref.kind === 'address') {
    const port = target.port === undefined ? undefined : portNumber(target.port);
    return { ip: ref.ip, ...(port !== undefined ? { port, proto: target.proto ?? 'tcp' } : target.proto ? { proto: target.proto } : {}), label: formatTarget(target) };
  }
  const kind = ref.kind === 'svc' ? 'service' : ref.kind;
  const namespace = ref.kind === 'node' ? undefined : ref.namespace;
  const object = await lookup(kind, namespace, ref.name);
  if (!isObject(object)) fail(target, `${kind === 'service' ? 'Service' : kind === 'pod' ? 'Pod' : 'Node'} "${ref.name}" not found${namespace ? ` in namespace "${namespace}"` : ''}`);
  const resolved = ref.kind === 'pod' ? resolvePod(target, object) : ref.kind === 'svc' ? resolveService(target, object) : resolveNode(target, object);
  return { ...resolved, label: label(target, resolved) };
}

/** Names in a target need Kubernetes; addresses do not. */
export function needsKubernetes(...targets: readonly Target[]): boolean {
  return targets.some((t) => t.ref.kind !== 'address');
}
