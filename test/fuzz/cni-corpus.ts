import { Random } from './random.ts';

// The fuzz corpus for the CNI plugins: generated configs and environments, each a valid base case
// (weft-bridge + weft-host-local, weft-host-local alone, or weft-vxlan over a subnet file) with
// mutations a hostile runtime or a careless operator would make. Every mutation states what the
// spec says must come of it: success, or a failure with one of a few error codes naming a variable
// or field. The same corpus runs through validation alone (unit tier), through the real executables
// (namespace tier) and through the reference plugins (npm run fuzz -- --reference).

export type PluginName = 'weft-bridge' | 'weft-host-local' | 'weft-vxlan';

export type Expectation =
  /** ADD succeeds (and DEL after it). */
  | { readonly kind: 'ok' }
  /** ADD fails with one of these codes, and its message names `names` when given. */
  | { readonly kind: 'error'; readonly codes: readonly number[]; readonly names?: string }
  /** Depends on the kernel or the machine (VLAN filtering): either, with the post-conditions holding. */
  | { readonly kind: 'either' };

export interface CniCase {
  readonly index: number;
  readonly plugin: PluginName;
  readonly containerId: string;
  readonly ifname: string;
  /** Undefined: the case's fresh pod namespace; else this path as CNI_NETNS. */
  readonly netns?: string;
  readonly cniArgs?: string;
  readonly extraEnv: Readonly<Record<string, string>>;
  /** What the plugin reads on stdin: the network config, usually JSON. */
  readonly stdin: string;
  /** The mutations applied, for reports ("valid" when none). */
  readonly mutations: readonly string[];
  readonly expect: Expectation;
  /** weft's own extensions (WEFT_CNI_TIMEOUT...): not run against the reference plugins. */
  readonly weftOnly: boolean;
  /** The outcome shows only when the verb runs (see Mutation.atRun). */
  readonly atRun: boolean;
  /** Set when the reference plugins would exhaust the machine on this case: it is counted, not run. */
  readonly harmsReference?: string;
}

/** Files and directories a case may point at; the kernel tier makes them, the unit tier only names them. */
export interface CorpusPaths {
  /** host-local dataDir of this worker (an allocation directory per network under it). */
  readonly dataDir: string;
  /** weft-vxlan's store of delegate configs. */
  readonly vxlanDataDir: string;
  /** A subnet file as weftd writes it. */
  readonly subnetFile: string;
  /** A subnet file holding garbage. */
  readonly badSubnetFile: string;
  /** A small resolv.conf. */
  readonly resolvConf: string;
  /** A FIFO nobody writes to. */
  readonly fifo: string;
}

type Conf = Record<string, any>;

interface Draft {
  plugin: PluginName;
  containerId: string;
  ifname: string;
  netns?: string;
  cniArgs?: string;
  extraEnv: Record<string, string>;
  conf: Conf;
  /** Replaces the JSON of conf on stdin when set. */
  raw?: string;
  weftOnly: boolean;
}

interface Mutation {
  readonly name: string;
  readonly expect: Expectation;
  readonly plugins?: readonly PluginName[];
  readonly weftOnly?: boolean;
  /** What it changes; a later mutation of the same target replaces the earlier one's expectation. */
  readonly on: string;
  /** Only running the verb shows the outcome (a file, a delegate, the kernel): validation alone cannot. */
  readonly atRun?: true;
  /** Why the reference plugins must not run it: they would exhaust the machine (see issue 10). */
  readonly harmsReference?: string;
  apply(draft: Draft, rng: Random, paths: CorpusPaths, index: number): void;
}

const OK: Expectation = { kind: 'ok' };
const env = (names: string): Expectation => ({ kind: 'error', codes: [4], names });
const config = (names: string): Expectation => ({ kind: 'error', codes: [7], names });

const HEX = '0123456789abcdef';
const PLAIN = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-';
// Printable ASCII the kernel and every tool take in an interface name.
const IFNAME_OK = 'abcdefghijklmnopqrstuvwxyz0123456789-_.@+!=,~^';

/** A name unique to the case within 15 characters, so cases on one node never share a bridge. */
function uniqueName(prefix: string, index: number): string {
  const suffix = index.toString(36);
  return `${prefix.slice(0, 15 - suffix.length)}${suffix}`;
}

function subnetOf(index: number): string {
  return `10.${64 + (index % 64)}.${(index >> 6) & 255}.0/24`;
}

function ipamOf(draft: Draft): Conf {
  return draft.plugin === 'weft-vxlan' ? (draft.conf.delegate.ipam ??= {}) : draft.plugin === 'weft-host-local' ? draft.conf.ipam : draft.conf.ipam;
}

/** The config object whose bridge keys weft-bridge reads (the vxlan delegate's, or the bridge's own). */
function bridgeConf(draft: Draft): Conf {
  return draft.plugin === 'weft-vxlan' ? draft.conf.delegate : draft.conf;
}

const BRIDGE_ONLY: readonly PluginName[] = ['weft-bridge', 'weft-vxlan'];
const HAS_RANGES: readonly PluginName[] = ['weft-bridge', 'weft-host-local'];

const MUTATIONS: readonly Mutation[] = [
  // The runtime's environment.
  { name: 'container ID of 129-300 characters', on: 'containerId', expect: env('CNI_CONTAINERID'), apply: (d, r) => void (d.containerId = r.text(HEX, r.int(129, 300))) },
  { name: 'container ID with a character outside [A-Za-z0-9_.-]', on: 'containerId', expect: env('CNI_CONTAINERID'), apply: (d, r) => void (d.containerId = `c${r.pick(['/', ' ', ':', '"', "'", '#', '\u0001', 'é', '\\', '$', '*'])}x`) },
  { name: 'container ID starting with "-" or "."', on: 'containerId', expect: env('CNI_CONTAINERID'), apply: (d, r) => void (d.containerId = `${r.pick(['-', '.', '_'])}abc`) },
  { name: 'empty container ID', on: 'containerId', expect: env('CNI_CONTAINERID'), apply: (d) => void (d.containerId = '') },
  { name: 'container ID of 64 hex digits (as runtimes make them)', on: 'containerId', expect: OK, apply: (d, r) => void (d.containerId = r.text(HEX, 64)) },
  { name: 'container ID of exactly 128 characters', on: 'containerId', expect: OK, apply: (d, r) => void (d.containerId = `c${r.text(PLAIN, 127)}`) },
  {
    name: 'interface name ip -batch, ip -json or iptables-save would reinterpret',
    on: 'ifname',
    expect: env('CNI_IFNAME'),
    apply: (d, r) => void (d.ifname = r.pick(["'eth1'", '"eth1"', 'eth#1', 'eth%d', 'eth 1', 'eth\u00011', 'eth\t1', 'a\\b', 'éth0', 'a/b', 'a:b', '.', '..'])),
  },
  { name: 'interface name of 16-40 characters', on: 'ifname', expect: env('CNI_IFNAME'), apply: (d, r) => void (d.ifname = r.text(IFNAME_OK, r.int(16, 40))) },
  { name: 'empty interface name', on: 'ifname', expect: env('CNI_IFNAME'), apply: (d) => void (d.ifname = '') },
  { name: 'unusual but valid interface name', on: 'ifname', expect: OK, apply: (d, r) => void (d.ifname = `${r.pick(['e', 'n', 'x'])}${r.text(IFNAME_OK, r.int(0, 14))}`) },
  { name: 'CNI_NETNS that does not exist', on: 'netns', expect: env('CNI_NETNS'), plugins: BRIDGE_ONLY, apply: (d, r) => void (d.netns = `/var/run/netns/weft-fuzz-absent-${r.text(HEX, 8)}`) },
  { name: 'CNI_NETNS that is not a namespace', on: 'netns', expect: env('CNI_NETNS'), plugins: BRIDGE_ONLY, apply: (d, _r, p) => void (d.netns = p.resolvConf) },
  { name: 'CNI_NETNS that ip -batch would split', on: 'netns', expect: env('CNI_NETNS'), apply: (d, r) => void (d.netns = `/var/run/netns/a${r.pick([' ', '"', '#', '\u0002'])}b`) },
  { name: 'CNI_NETNS that is a relative path', on: 'netns', expect: env('CNI_NETNS'), apply: (d) => void (d.netns = 'var/run/netns/x') },
  { name: 'CNI_ARGS that is not KEY=VALUE', on: 'cniArgs', expect: env('CNI_ARGS'), apply: (d, r) => void (d.cniArgs = r.pick(['x', '=v', 'a=b;c'])) },
  { name: 'CNI_ARGS with unknown keys the runtime adds', on: 'cniArgs', expect: OK, apply: (d) => void (d.cniArgs = 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-1') },
  { name: 'CNI_ARGS IP that is not an address', on: 'cniArgs', expect: env('CNI_ARGS IP'), plugins: ['weft-host-local'], apply: (d) => void (d.cniArgs = 'IP=10.0.0.999') },
  { name: 'CNI_ARGS MAC that is not a unicast MAC', on: 'cniArgs', expect: config('CNI_ARGS MAC'), plugins: ['weft-bridge'], apply: (d, r) => void (d.cniArgs = `MAC=${r.pick(['zz:00:00:00:00:01', '01:00:00:00:00:01', 'x'])}`) },
  { name: 'WEFT_CNI_TIMEOUT that is not a duration', on: 'timeout', expect: env('WEFT_CNI_TIMEOUT'), weftOnly: true, apply: (d, r) => void (d.extraEnv.WEFT_CNI_TIMEOUT = r.pick(['30', '-1s', '1x', '99h'])) },
  { name: 'WEFT_CNI_DEPTH beyond the bound', on: 'depth', expect: config('delegate'), weftOnly: true, apply: (d) => void (d.extraEnv.WEFT_CNI_DEPTH = '7') },

  // The network config as a whole.
  { name: 'stdin that is not JSON', on: 'stdin', expect: { kind: 'error', codes: [6] }, apply: (d, r) => void (d.raw = r.pick(['', 'not json', '{"cniVersion":', '\u0000\u0001', '[1,2'])) },
  { name: 'stdin that is JSON but not an object', on: 'stdin', expect: { kind: 'error', codes: [6] }, apply: (d, r) => void (d.raw = r.pick(['[]', '42', '"x"', 'null'])) },
  { name: 'unsupported cniVersion', on: 'cniVersion', expect: { kind: 'error', codes: [1] }, apply: (d, r) => void (d.conf.cniVersion = r.pick(['0.2.0', '9.9.9', '1.0', 'x'])) },
  { name: 'missing cniVersion', on: 'cniVersion', expect: { kind: 'error', codes: [1] }, apply: (d) => void delete d.conf.cniVersion },
  { name: 'network name of 65-300 characters', on: 'name', expect: config('"name"'), apply: (d, r) => void (d.conf.name = `n${r.text(PLAIN, r.int(64, 299))}`) },
  { name: 'network name that is not a plain name', on: 'name', expect: config('"name"'), apply: (d, r) => void (d.conf.name = r.pick(['a/b', 'a b', '', '-x', 'é', 'a"b', 7, null])) },
  { name: 'network name of exactly 64 characters', on: 'name', expect: OK, apply: (d, r) => void (d.conf.name = `n${r.text(PLAIN, 63)}`) },
  { name: 'unknown keys in the config', on: 'extra', expect: OK, apply: (d) => void Object.assign(d.conf, { 'x-custom': { deep: [1, 2] }, capabilities: { portMappings: true } }) },

  // weft-bridge's keys (the vxlan delegate's too).
  { name: 'bridge name ip or the kernel would reinterpret', on: 'bridge', expect: config('"bridge"'), plugins: BRIDGE_ONLY, apply: (d, r) => void (bridgeConf(d).bridge = r.pick(['"x"', "'x'", 'br\u0001x', 'br#x', 'br%d', 'b r', 'a'.repeat(16), 'é', '', '.', 7])) },
  { name: 'unusual but valid bridge name', on: 'bridge', expect: OK, plugins: BRIDGE_ONLY, apply: (d, r, _p, i) => void (bridgeConf(d).bridge = uniqueName(`${r.pick(['b@', 'b+', 'b!', 'b=', 'b~', 'b_'])}${r.text(IFNAME_OK, 4)}`, i)) },
  { name: 'boolean key that is not a boolean', on: 'flags', expect: config(''), plugins: BRIDGE_ONLY, apply: (d, r) => void (bridgeConf(d)[r.pick(['isGateway', 'isDefaultGateway', 'ipMasq', 'hairpinMode', 'forceAddress', 'macspoofchk'])] = r.pick(['yes', 1, 'true', {}, []])) },
  { name: 'mtu out of range or not an integer', on: 'mtu', expect: config('"mtu"'), plugins: ['weft-bridge'], apply: (d, r) => void (d.conf.mtu = r.pick([-1, 40, 67, 65536, 1500.5, '1500'])) },
  { name: 'valid mtu', on: 'mtu', expect: OK, plugins: ['weft-bridge'], apply: (d, r) => void (d.conf.mtu = r.pick([0, 68, 1280, 1400, 9000])) },
  { name: 'vlan out of range', on: 'vlan', expect: config('"vlan"'), plugins: BRIDGE_ONLY, apply: (d, r) => void (bridgeConf(d).vlan = r.pick([-1, 4095, 1.5, '5'])) },
  { name: 'vlan (needs bridge VLAN filtering in the kernel)', on: 'vlan', atRun: true, expect: { kind: 'either' }, plugins: ['weft-bridge'], apply: (d, r) => void (d.conf.vlan = r.int(1, 4094)) },
  { name: 'hairpinMode and promiscMode together', on: 'hairpin', expect: config('"promiscMode"'), plugins: BRIDGE_ONLY, apply: (d) => void Object.assign(bridgeConf(d), { hairpinMode: true, promiscMode: true }) },
  { name: 'runtimeConfig.mac that is not a unicast MAC', on: 'runtimeConfig', expect: config('"runtimeConfig.mac"'), plugins: ['weft-bridge'], apply: (d, r) => void (d.conf.runtimeConfig = { mac: r.pick(['zz', '01:02:03:04:05:06', 'ff:ff:ff:ff:ff:ff', 5]) }) },
  { name: 'valid runtimeConfig.mac', on: 'runtimeConfig', expect: OK, plugins: ['weft-bridge'], apply: (d, r) => void (d.conf.runtimeConfig = { mac: `0a:${r.text(HEX, 2)}:${r.text(HEX, 2)}:00:00:01` }) },
  { name: 'ipam.type naming the calling plugin', on: 'ipam.type', atRun: true, harmsReference: 'the reference bridge delegates to itself without end (a fork bomb)', expect: config('"ipam.type"'), plugins: ['weft-bridge'], apply: (d) => void (d.conf.ipam.type = 'weft-bridge') },
  { name: 'delegate.type naming the calling plugin', on: 'delegate', atRun: true, expect: config('"delegate.type"'), plugins: ['weft-vxlan'], apply: (d) => void (d.conf.delegate.type = 'weft-vxlan') },
  // The loop ends at the depth bound (7), or sooner where the nested weft-vxlan finds no subnet file (11).
  { name: 'delegate IPAM naming a plugin that delegates back', on: 'ipam.type', atRun: true, expect: { kind: 'error', codes: [7, 11] }, plugins: ['weft-vxlan'], apply: (d) => void (d.conf.delegate.ipam = { ...d.conf.delegate.ipam, type: 'weft-vxlan' }) },
  { name: 'plugin type that is a path or absent', on: 'ipam.type', atRun: true, expect: { kind: 'error', codes: [7] }, plugins: ['weft-bridge'], apply: (d, r) => void (d.conf.ipam.type = r.pick(['../bin/sh', '/bin/true', 'no-such-ipam', 5])) },
  { name: 'ipam that is not an object', on: 'ipam', expect: config('"ipam"'), plugins: HAS_RANGES, apply: (d, r) => void (d.conf.ipam = r.pick(['host-local', 5, [1]])) },

  // weft-host-local's keys.
  { name: 'subnet that cannot serve pods', on: 'ipam.ranges', expect: config('subnet'), plugins: HAS_RANGES, apply: (d, r) => void (ipamOf(d).ranges = [[{ subnet: r.pick(['0.0.0.0/0', '0.0.0.0/30', '127.0.0.0/24', '224.0.0.0/24', '::ffff:10.0.0.0/120', '::/0', 'ff02::/64']) }]]) },
  { name: 'subnet too small, with host bits, or not a CIDR', on: 'ipam.ranges', expect: config('subnet'), plugins: HAS_RANGES, apply: (d, r) => void (ipamOf(d).ranges = [[{ subnet: r.pick(['10.9.0.0/31', '10.9.0.0/32', '10.9.0.5/24', 'nope', '10.9.0.0', '10.9.0.0/33', 5, '']) }]]) },
  { name: 'smallest usable subnet (/30)', on: 'ipam.ranges', expect: OK, plugins: HAS_RANGES, apply: (d, _r, _p, i) => void (ipamOf(d).ranges = [[{ subnet: subnetOf(i).replace('.0/24', '.4/30') }]]) },
  { name: 'dual-stack ranges', on: 'ipam.ranges', expect: OK, plugins: HAS_RANGES, apply: (d, _r, _p, i) => void (ipamOf(d).ranges = [[{ subnet: subnetOf(i) }], [{ subnet: `fd00:${(i % 65535).toString(16)}::/120` }]]) },
  { name: 'range bounds outside the subnet or reversed', on: 'ipam.ranges', expect: config('ipam'), plugins: HAS_RANGES, apply: (d, r, _p, i) => void (ipamOf(d).ranges = [[{ subnet: subnetOf(i), ...r.pick([{ rangeStart: '10.250.0.1' }, { rangeEnd: 'x' }, { gateway: '192.0.2.1' }, { rangeStart: subnetOf(i).replace('0/24', '50'), rangeEnd: subnetOf(i).replace('0/24', '10') }]) }]]) },
  { name: 'ranges that overlap or mix families', on: 'ipam.ranges', expect: config('ipam'), plugins: HAS_RANGES, apply: (d, r, _p, i) => void (ipamOf(d).ranges = r.pick([[[{ subnet: subnetOf(i) }], [{ subnet: subnetOf(i) }]], [[{ subnet: subnetOf(i) }, { subnet: 'fd00::/64' }]], [], [[]], 'x'])) },
  { name: 'routes that are not routes', on: 'ipam.routes', expect: config('ipam.routes'), plugins: HAS_RANGES, apply: (d, r) => void (ipamOf(d).routes = r.pick([[{ dst: 'x' }], [{ dst: '0.0.0.0/0', gw: 'y' }], {}, ['x'], [{}]])) },
  { name: 'valid extra routes', on: 'ipam.routes', expect: OK, plugins: HAS_RANGES, apply: (d) => void (ipamOf(d).routes = [{ dst: '192.168.200.0/24' }, { dst: '172.31.0.0/16' }]) },
  { name: 'dataDir that is relative or climbs out', on: 'ipam.dataDir', expect: config('"ipam.dataDir"'), plugins: HAS_RANGES, apply: (d, r) => void (ipamOf(d).dataDir = r.pick(['relative/dir', '/var/lib/../../etc', 'x'])) },
  { name: 'dataDir under /proc or on a file', on: 'ipam.dataDir', atRun: true, expect: { kind: 'error', codes: [5] }, plugins: HAS_RANGES, apply: (d, r, p) => void (ipamOf(d).dataDir = r.pick(['/proc/sys/net/weft-fuzz', '/proc/self', p.resolvConf, '/dev/null'])) },
  { name: 'resolvConf that is a device, a FIFO or missing', on: 'ipam.resolvConf', atRun: true, harmsReference: 'the reference host-local reads /dev/zero without bound (gigabytes of memory)', expect: { kind: 'error', codes: [5] }, plugins: HAS_RANGES, apply: (d, r, p) => void (ipamOf(d).resolvConf = r.pick(['/dev/zero', '/dev/urandom', p.fifo, '/nonexistent/resolv.conf', '/proc'])) },
  { name: 'valid resolvConf', on: 'ipam.resolvConf', expect: OK, plugins: HAS_RANGES, apply: (d, _r, p) => void (ipamOf(d).resolvConf = p.resolvConf) },
  { name: 'runtimeConfig.ips outside every range', on: 'runtimeConfig', expect: config('runtimeConfig.ips'), plugins: ['weft-host-local'], apply: (d) => void (d.conf.runtimeConfig = { ips: ['192.0.2.7'] }) },

  // weft-vxlan's keys.
  { name: 'subnetFile that does not exist', on: 'subnetFile', atRun: true, expect: { kind: 'error', codes: [11] }, plugins: ['weft-vxlan'], apply: (d, r) => void (d.conf.subnetFile = `/run/weft-fuzz-absent-${r.text(HEX, 6)}/subnet.env`) },
  { name: 'subnetFile that is garbage, a device or a FIFO', on: 'subnetFile', atRun: true, expect: { kind: 'error', codes: [5] }, plugins: ['weft-vxlan'], apply: (d, r, p) => void (d.conf.subnetFile = r.pick([p.badSubnetFile, '/dev/zero', p.fifo])) },
  { name: 'vxlan dataDir under /proc', on: 'vxlanDataDir', atRun: true, expect: { kind: 'error', codes: [5] }, plugins: ['weft-vxlan'], apply: (d) => void (d.conf.dataDir = '/proc/sys/net/weft-fuzz') },
  { name: 'delegate that is not an object', on: 'delegate', expect: config('"delegate"'), plugins: ['weft-vxlan'], apply: (d, r) => void (d.conf.delegate = r.pick(['bridge', 5, []])) },
];

function baseDraft(plugin: PluginName, rng: Random, paths: CorpusPaths, index: number): Draft {
  const cniVersion = rng.pick(['0.3.1', '0.4.0', '1.0.0', '1.1.0']);
  const name = `fuzz${index.toString(36)}`;
  const ipam = { type: 'weft-host-local', dataDir: paths.dataDir, ranges: [[{ subnet: subnetOf(index) }]] };
  const flags = { isGateway: rng.chance(0.7), isDefaultGateway: rng.chance(0.4), ipMasq: rng.chance(0.4), hairpinMode: rng.chance(0.3), macspoofchk: rng.chance(0.3) };
  const conf: Conf =
    plugin === 'weft-host-local'
      ? { cniVersion, name, type: plugin, ipam }
      : plugin === 'weft-bridge'
        ? { cniVersion, name, type: plugin, bridge: uniqueName('fz', index), ...flags, ipam }
        : { cniVersion, name, type: plugin, subnetFile: paths.subnetFile, dataDir: paths.vxlanDataDir, delegate: { bridge: uniqueName('fv', index), ...flags, ipam: { dataDir: paths.dataDir } } };
  return { plugin, containerId: `fuzz-${index}-${rng.text(HEX, 8)}`, ifname: rng.pick(['eth0', 'eth1', 'net1']), extraEnv: {}, conf, weftOnly: false };
}

/** Case number `index` of the corpus for `seed`: the same pair always gives the same case. */
export function generateCniCase(seed: number, index: number, paths: CorpusPaths): CniCase {
  const rng = new Random((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const plugin = rng.pick<PluginName>(['weft-bridge', 'weft-bridge', 'weft-host-local', 'weft-vxlan']);
  const draft = baseDraft(plugin, rng, paths, index);
  // A quarter of the cases stay valid (with their random flags); the rest carry one mutation, a few two.
  const count = rng.chance(0.25) ? 0 : rng.chance(0.9) ? 1 : 2;
  const applicable = MUTATIONS.filter((m) => !m.plugins || m.plugins.includes(plugin));
  const applied: Mutation[] = [];
  for (let i = 0; i < count; i++) {
    const mutation = rng.pick(applicable);
    try {
      mutation.apply(draft, rng, paths, index);
    } catch {
      continue; // an earlier mutation removed what this one changes (ipam is a string now)
    }
    // A later mutation of the same thing replaces the earlier one (a valid MTU after an invalid one).
    const earlier = applied.findIndex((m) => m.on === mutation.on);
    if (earlier >= 0) applied.splice(earlier, 1);
    applied.push(mutation);
    if (mutation.weftOnly) draft.weftOnly = true;
  }
  const failing = applied.filter((m) => m.expect.kind !== 'ok');
  // Two failing mutations: which one is reported first is the plugin's choice; any of their codes will do.
  const expect: Expectation =
    failing.length === 0
      ? OK
      : failing.length === 1
        ? failing[0]!.expect
        : failing.some((m) => m.expect.kind === 'either')
          ? { kind: 'either' }
          : { kind: 'error', codes: [...new Set(failing.flatMap((m) => (m.expect.kind === 'error' ? m.expect.codes : [])))] };
  return {
    index,
    plugin,
    containerId: draft.containerId,
    ifname: draft.ifname,
    ...(draft.netns !== undefined ? { netns: draft.netns } : {}),
    ...(draft.cniArgs !== undefined ? { cniArgs: draft.cniArgs } : {}),
    extraEnv: draft.extraEnv,
    stdin: draft.raw ?? JSON.stringify(draft.conf),
    mutations: applied.length ? applied.map((m) => m.name) : ['valid'],
    expect,
    weftOnly: draft.weftOnly,
    atRun: applied.some((m) => m.atRun),
    ...(applied.some((m) => m.harmsReference) ? { harmsReference: applied.find((m) => m.harmsReference)!.harmsReference! } : {}),
  };
}

/** The spec's error object: cniVersion, code, msg (and details), nothing else required. */
export function specErrorProblem(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return 'stdout is not a JSON object';
  const error = json as Record<string, unknown>;
  if (typeof error.code !== 'number' || !Number.isInteger(error.code)) return 'error has no integer "code"';
  if (typeof error.msg !== 'string' || error.msg === '') return 'error has no "msg"';
  if (typeof error.cniVersion !== 'string') return 'error has no "cniVersion"';
  if (error.details !== undefined && typeof error.details !== 'string') return 'error "details" is not a string';
  // The spec reserves 1-99; 1-7 and 11 are defined, 50/51 for STATUS; plugins use 100 and up.
  const code = error.code;
  if (!((code >= 1 && code <= 7) || code === 11 || code === 50 || code === 51 || code >= 100)) return `error code ${code} is reserved by the spec`;
  return undefined;
}

/** Problems with a failed call's outcome against what the case expects. */
export function expectationProblems(c: CniCase, outcome: { code: number; json: unknown }): string[] {
  if (outcome.code === 0) return c.expect.kind === 'error' ? [`ADD succeeded, but the spec wants code ${c.expect.codes.join(' or ')}`] : [];
  const problem = specErrorProblem(outcome.json);
  if (problem) return [problem];
  const error = outcome.json as { code: number; msg: string };
  if (c.expect.kind === 'ok') return [`ADD failed with code ${error.code}: ${error.msg}`];
  if (c.expect.kind === 'either') return [];
  const problems: string[] = [];
  if (!c.expect.codes.includes(error.code)) problems.push(`ADD failed with code ${error.code}, expected ${c.expect.codes.join(' or ')}: ${error.msg}`);
  if (c.expect.names && !error.msg.includes(c.expect.names)) problems.push(`the error does not name ${c.expect.names}: ${error.msg}`);
  return problems;
}
