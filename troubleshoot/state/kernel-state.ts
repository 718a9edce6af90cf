import { isObject, parseToolJson } from '../../lib/json.ts';

// The node's links, addresses, routes, rules, neighbours, FDB and sysctls as `ip -j`, `bridge -j` and
// /proc/sys report them, reduced to what the explanation and the checks compare. The parsers are pure:
// read-kernel-state.ts runs the commands and hands their output here.

export interface LinkState {
  readonly name: string;
  readonly kind?: string;
  readonly mtu: number;
  readonly up: boolean;
  readonly mac?: string;
  /** The bridge this link is a port of. */
  readonly master?: string;
  /** weft-bridge tags its host veths "weft-bridge net=NET id=CONTAINER if=IFNAME". */
  readonly alias?: string;
  /** The peer's namespace id, as this namespace numbers it (veths). */
  readonly linkNetnsId?: number;
  readonly vxlan?: { readonly vni?: number; readonly local?: string; readonly port?: number; readonly learning?: boolean; readonly dev?: string; readonly df?: string };
  readonly bridgePort?: { readonly state: string; readonly hairpin: boolean };
  readonly addresses: readonly { readonly ip: string; readonly prefix: number }[];
}

export interface RouteState {
  /** "main", "local", "default" or a number. */
  readonly table: string;
  /** "unicast", "local", "broadcast", "blackhole", "unreachable", "prohibit", ... */
  readonly type: string;
  /** "default" or an address or CIDR as ip prints it. */
  readonly dst: string;
  readonly gateway?: string;
  readonly dev?: string;
  readonly prefsrc?: string;
  readonly metric: number;
  readonly onlink: boolean;
}

export interface RuleState {
  readonly priority: number;
  readonly table: string;
  readonly src?: string;
  readonly dst?: string;
  readonly iif?: string;
  readonly oif?: string;
  readonly fwmark?: string;
  readonly not: boolean;
}

export interface NeighbourState {
  readonly ip: string;
  readonly dev: string;
  readonly mac?: string;
  readonly state: readonly string[];
}

export interface FdbState {
  readonly mac: string;
  readonly dev: string;
  /** The remote VTEP of a VXLAN entry. */
  readonly dst?: string;
  /** The bridge of a learnt or static bridge entry. */
  readonly master?: string;
  readonly state: string;
}

export interface KernelState {
  readonly links: readonly LinkState[];
  readonly routes: readonly RouteState[];
  readonly rules: readonly RuleState[];
  readonly neighbours: readonly NeighbourState[];
  readonly fdb: readonly FdbState[];
  /** Values under /proc/sys, keyed by path below it: "net/ipv4/conf/weft.1/rp_filter". */
  readonly sysctls: ReadonlyMap<string, string>;
  /** Namespace ids of this namespace's peers and their names under /run/netns, where named. */
  readonly netnsNames: ReadonlyMap<number, string>;
}

function list(text: string, what: string): Record<string, unknown>[] {
  const value = parseToolJson(text, what) ?? [];
  if (!Array.isArray(value)) throw new Error(`cannot read ${what}: not a JSON list`);
  return value.filter(isObject);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** `ip -d -j addr show` (links with their addresses and link details). */
export function parseLinks(text: string): LinkState[] {
  return list(text, 'links').map((l) => {
    const info = isObject(l.linkinfo) ? l.linkinfo : {};
    const data = isObject(info.info_data) ? info.info_data : {};
    const slave = isObject(info.info_slave_data) ? info.info_slave_data : undefined;
    const kind = str(info.info_kind);
    const addresses = (Array.isArray(l.addr_info) ? l.addr_info : [])
      .filter((a): a is Record<string, unknown> => isObject(a) && a.family === 'inet')
      .map((a) => ({ ip: String(a.local), prefix: Number(a.prefixlen) }));
    const flags = Array.isArray(l.flags) ? l.flags : [];
    return {
      name: String(l.ifname),
      ...(kind ? { kind } : {}),
      mtu: num(l.mtu) ?? 0,
      up: flags.includes('UP'),
      ...(str(l.address) ? { mac: str(l.address) } : {}),
      ...(str(l.master) ? { master: str(l.master) } : {}),
      ...(str(l.ifalias) ? { alias: str(l.ifalias) } : {}),
      ...(num(l.link_netnsid) !== undefined ? { linkNetnsId: num(l.link_netnsid) } : {}),
      ...(kind === 'vxlan'
        ? { vxlan: { vni: num(data.id), local: str(data.local), port: num(data.port), learning: typeof data.learning === 'boolean' ? data.learning : undefined, dev: str(data.link), df: str(data.df) } }
        : {}),
      ...(info.info_slave_kind === 'bridge' && slave ? { bridgePort: { state: String(slave.state ?? ''), hairpin: slave.hairpin === true } } : {}),
      addresses,
    };
  });
}

/** `ip -j route show table all`: entries of the main table carry no "table" key. */
export function parseRoutes(text: string): RouteState[] {
  return list(text, 'routes')
    .filter((r) => str(r.dst) !== undefined)
    .map((r) => ({
      table: str(r.table) ?? 'main',
      type: str(r.type) ?? 'unicast',
      dst: String(r.dst),
      ...(str(r.gateway) ? { gateway: str(r.gateway) } : {}),
      ...(str(r.dev) ? { dev: str(r.dev) } : {}),
      ...(str(r.prefsrc) ? { prefsrc: str(r.prefsrc) } : {}),
      metric: num(r.metric) ?? 0,
      onlink: Array.isArray(r.flags) && r.flags.includes('onlink'),
    }));
}

/** `ip -j rule show`. */
export function parseRules(text: string): RuleState[] {
  return list(text, 'rules').map((r) => {
    const prefix = (key: string, len: string) => (str(r[key]) && str(r[key]) !== 'all' ? `${r[key]}${num(r[len]) !== undefined ? `/${r[len]}` : ''}` : undefined);
    const src = prefix('src', 'srclen');
    const dst = prefix('dst', 'dstlen');
    return {
      priority: num(r.priority) ?? 0,
      table: str(r.table) ?? String(r.table ?? ''),
      ...(src ? { src } : {}),
      ...(dst ? { dst } : {}),
      ...(str(r.iif) ? { iif: str(r.iif) } : {}),
      ...(str(r.oif) ? { oif: str(r.oif) } : {}),
      ...(str(r.fwmark) ? { fwmark: str(r.fwmark) } : {}),
      not: r.not === true || r.not === null,
    };
  });
}

/** `ip -j neigh show`. */
export function parseNeighbours(text: string): NeighbourState[] {
  return list(text, 'neighbours').map((n) => ({
    ip: String(n.dst),
    dev: String(n.dev),
    ...(str(n.lladdr) ? { mac: str(n.lladdr) } : {}),
    state: Array.isArray(n.state) ? n.state.map(String) : [],
  }));
}

/** `bridge -j fdb show`. */
export function parseFdb(text: string): FdbState[] {
  return list(text, 'FDB entries').map((f) => ({
    mac: String(f.mac).toLowerCase(),
    dev: String(f.ifname ?? f.dev),
    ...(str(f.dst) ? { dst: str(f.dst) } : {}),
    ...(str(f.master) ? { master: str(f.master) } : {}),
    state: String(f.state ?? ''),
  }));
}

/** `ip -j netns list-id`: ids of peer namespaces and, for those under /run/netns, their names. */
export function parseNetnsIds(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const entry of list(text, 'namespace ids')) if (typeof entry.nsid === 'number' && str(entry.name)) names.set(entry.nsid, String(entry.name));
  return names;
}

/** The sysctl name operators type: "net.ipv4.conf.weft/1.rp_filter" (a dot inside a device name becomes "/"). */
export function sysctlName(path: string): string {
  return path
    .split('/')
    .map((part) => part.replaceAll('.', '/'))
    .join('.');
}

export function sysctl(state: KernelState, path: string): string | undefined {
  return state.sysctls.get(path);
}

export function findLink(state: KernelState, name: string | undefined): LinkState | undefined {
  return name === undefined ? undefined : state.links.find((l) => l.name === name);
}
