import { parseIpv4 } from '../../lib/ip.ts';
import { UsageError } from '../cli/args.ts';

// What `--from` and `--to` name: an IPv4 address, or with a kubeconfig a Pod, a Service or a Node,
// with an optional port and protocol on the destination: `10.244.1.5:8080/udp`, `svc/web/api:http`.

export type Protocol = 'tcp' | 'udp';

export type TargetRef =
  | { readonly kind: 'address'; readonly ip: string }
  | { readonly kind: 'pod' | 'svc'; readonly namespace: string; readonly name: string }
  | { readonly kind: 'node'; readonly name: string };

export interface Target {
  readonly ref: TargetRef;
  /** A number, or for a Service a port name. */
  readonly port?: string;
  readonly proto?: Protocol;
}

// DNS-1123 subdomain (Pod and Node names) and label (namespaces); a Service name is a label too.
const SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
// A Service or container port name (IANA_SVC_NAME): up to 15 lowercase letters, digits and inner dashes, one letter at least.
const PORT_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/;

function bad(flag: string, text: string, why: string): never {
  throw new UsageError(`cannot parse "--${flag}": "${text}" ${why}`);
}

function formatRef(ref: TargetRef): string {
  if (ref.kind === 'address') return ref.ip;
  return ref.kind === 'node' ? `node/${ref.name}` : `${ref.kind}/${ref.namespace}/${ref.name}`;
}

export function formatTarget(t: Target): string {
  return `${formatRef(t.ref)}${t.port !== undefined ? `:${t.port}` : ''}${t.proto ? `/${t.proto}` : ''}`;
}

/** A port number from 1 to 65535, or undefined when `text` is not one. */
export function portNumber(text: string): number | undefined {
  const n = Number(text);
  return /^\d{1,5}$/.test(text) && n >= 1 && n <= 65_535 ? n : undefined;
}

function parseRef(base: string, flag: string, text: string): TargetRef {
  const parts = base.split('/');
  if (parts.length === 1) {
    if (parseIpv4(base) === undefined) bad(flag, text, 'is not an IPv4 address nor pod/NS/NAME, svc/NS/NAME or node/NAME');
    return { kind: 'address', ip: base };
  }
  const [kind, ...rest] = parts as [string, ...string[]];
  if (kind === 'node') {
    if (rest.length !== 1 || !SUBDOMAIN.test(rest[0] as string)) bad(flag, text, 'is not node/NAME with a valid Node name');
    return { kind: 'node', name: rest[0] as string };
  }
  if (kind !== 'pod' && kind !== 'svc') bad(flag, text, `names an unknown kind "${kind}" (pod, svc or node)`);
  const [namespace = '', name = ''] = rest;
  if (rest.length !== 2 || !LABEL.test(namespace)) bad(flag, text, `is not ${kind}/NAMESPACE/NAME with a valid namespace`);
  if (!(kind === 'pod' ? SUBDOMAIN : LABEL).test(name)) bad(flag, text, `is not ${kind}/NAMESPACE/NAME with a valid name`);
  return { kind, namespace, name };
}

/** Parses SRC (no port) or DST[:PORT][/tcp|udp]; throws UsageError naming the flag and the text. */
export function parseTarget(text: string, flag: 'from' | 'to'): Target {
  let rest = text;
  let proto: Protocol | undefined;
  const slash = rest.lastIndexOf('/');
  const before = slash >= 0 ? rest.slice(0, slash) : '';
  // A trailing "/word" is a protocol after a port or an address, and a name's last part otherwise.
  if (slash >= 0 && (before.slice(before.lastIndexOf('/') + 1).includes(':') || parseIpv4(before) !== undefined)) {
    const tail = rest.slice(slash + 1);
    if (tail !== 'tcp' && tail !== 'udp') bad(flag, text, `has protocol "${tail}": only tcp and udp`);
    proto = tail;
    rest = before;
  }
  let port: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    port = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const ref = parseRef(rest, flag, text);
  if (flag === 'from' && (port !== undefined || proto !== undefined)) bad(flag, text, 'carries a port or protocol: only the destination has one');
  const named = ref.kind === 'svc' || ref.kind === 'pod';
  if (port !== undefined && portNumber(port) === undefined && !(named && PORT_NAME.test(port))) {
    bad(flag, text, `has port "${port}": not a number from 1 to 65535${named ? ' nor a port name' : ''}`);
  }
  return { ref, ...(port !== undefined ? { port } : {}), ...(proto ? { proto } : {}) };
}
