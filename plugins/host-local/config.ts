import { ABSOLUTE_PATH, FieldError, mustBe, readList, readObject, readParsed } from '../../lib/fields.ts';
import { isObject } from '../../lib/json.ts';
import { CniError, ErrorCode } from '../cni/errors.ts';
import type { Request } from '../cni/request.ts';
import type { NetConf, Route } from '../cni/types.ts';
import { cidrContains, compareIps, familyBits, formatCidr, formatIp, lastAddress, networkAddress, offsetIp, parseCidr, parseIp, sameIp, type Cidr, type IP } from '../../lib/ip.ts';
import { findRangeSet, isAllocatable, rangesOverlap, type Range, type RangeSet } from './range.ts';

// The `ipam` section, read with the reference host-local's keys and defaults, validated once.
// Every error is code 7 and names the field the way an operator would find it in the file.

export interface HostLocalConfig {
  /** The network name: the allocation directory under dataDir. */
  readonly network: string;
  readonly dataDir: string;
  readonly rangeSets: readonly RangeSet[];
  readonly routes: readonly Route[];
  readonly resolvConf?: string;
  /** Per range set, the address the runtime asked for (CNI_ARGS IP, args.cni.ips, runtimeConfig.ips). */
  readonly requested: readonly (IP | undefined)[];
}

export const DEFAULT_DATA_DIR = '/var/lib/cni/networks';

const IP_ADDRESS = { expectation: 'an IP address', check: parseIp };
const CIDR = { expectation: 'a CIDR such as "10.1.0.0/24"', check: (text: string) => parseCidr(text) };

// Blocks no pod address may come from: the kernel or every peer treats them specially.
const UNUSABLE: readonly { cidr: Cidr; why: string }[] = [
  ['0.0.0.0/8', '"this network", which no host may use'],
  ['127.0.0.0/8', 'loopback addresses'],
  ['224.0.0.0/4', 'multicast addresses'],
  ['255.255.255.255/32', 'the limited broadcast address'],
  ['::/128', 'the unspecified address'],
  ['::1/128', 'the loopback address'],
  ['::ffff:0:0/96', 'IPv4-mapped addresses'],
  ['ff00::/8', 'multicast addresses'],
].map(([text, why]) => ({ cidr: parseCidr(text!)!, why: why! }));

function overlaps(a: Cidr, b: Cidr): boolean {
  return a.ip.family === b.ip.family && (cidrContains(a, networkAddress(b)) || cidrContains(b, networkAddress(a)));
}

function parseBound(section: Record<string, unknown>, key: string, field: string, range: { subnet: Range['subnet'] }): IP | undefined {
  const ip = readParsed(section, key, IP_ADDRESS, field);
  if (ip === undefined) return undefined;
  if (!cidrContains(range.subnet, ip)) throw mustBe(field, `an address inside the subnet "${formatCidr(range.subnet)}"`, formatIp(ip));
  return ip;
}

/** The subnet of a range: a network address, large enough to allocate from, and made of addresses a pod can hold. */
function parseSubnet(raw: Record<string, unknown>, field: string): Cidr {
  const parsed = readParsed(raw, 'subnet', CIDR, field);
  if (parsed === undefined) throw new FieldError(field, 'is missing');
  const text = formatCidr(parsed);
  const bits = familyBits(parsed.ip.family);
  if (parsed.prefix > bits - 2) throw mustBe(field, `a subnet of /${bits - 2} or larger to allocate from`, raw.subnet);
  const subnet = { ip: networkAddress(parsed), prefix: parsed.prefix };
  if (!sameIp(subnet.ip, parsed.ip)) throw mustBe(field, `a network address ("${formatCidr(subnet)}"), not one with host bits set`, raw.subnet);
  const unusable = UNUSABLE.find((block) => overlaps(block.cidr, subnet));
  if (unusable) throw mustBe(field, `a subnet pods can use, not one that includes ${formatCidr(unusable.cidr)} (${unusable.why})`, text);
  return subnet;
}

/** One range, with the reference's defaults: start and gateway at network+1, end at the last address (IPv4: broadcast-1). */
function parseRange(raw: unknown, field: string): Range {
  if (!isObject(raw)) throw mustBe(field, 'an object', raw);
  const subnet = parseSubnet(raw, `${field}.subnet`);
  const first = offsetIp(subnet.ip, 1n);
  const last = subnet.ip.family === 4 ? offsetIp(lastAddress(subnet), -1n) : lastAddress(subnet);
  const rangeStart = parseBound(raw, 'rangeStart', `${field}.rangeStart`, { subnet }) ?? first;
  const rangeEnd = parseBound(raw, 'rangeEnd', `${field}.rangeEnd`, { subnet }) ?? last;
  const gateway = parseBound(raw, 'gateway', `${field}.gateway`, { subnet }) ?? first;
  if (compareIps(rangeStart, rangeEnd) > 0) throw mustBe(`${field}.rangeEnd`, `an address after rangeStart "${formatIp(rangeStart)}"`, formatIp(rangeEnd));
  return { subnet, rangeStart, rangeEnd, gateway };
}

function parseRangeSet(raw: unknown, field: string): RangeSet {
  if (!Array.isArray(raw) || raw.length === 0) throw mustBe(field, 'a non-empty list of ranges', raw);
  const set = raw.map((r, j) => parseRange(r, `${field}[${j}]`));
  const family = set[0]!.subnet.ip.family;
  const mixed = set.findIndex((r) => r.subnet.ip.family !== family);
  if (mixed >= 0) throw mustBe(`${field}[${mixed}].subnet`, `an IPv${family} subnet like the rest of its range set`, formatCidr(set[mixed]!.subnet));
  return set;
}

interface LabelledRange {
  range: Range;
  field: string;
}

function assertNoOverlap(ranges: readonly LabelledRange[]): void {
  for (const [i, a] of ranges.entries()) {
    const b = ranges.slice(0, i).find((earlier) => rangesOverlap(earlier.range, a.range));
    if (b) throw new FieldError(a.field, `overlaps "${b.field}"`);
  }
}

/** The range sets: the legacy single range in ipam (first, as the reference does) then ipam.ranges. */
function parseRangeSets(ipam: Record<string, unknown>): RangeSet[] {
  const labelled: LabelledRange[] = [];
  const sets: RangeSet[] = [];
  if (ipam.subnet !== undefined) {
    const range = parseRange(ipam, 'ipam');
    sets.push([range]);
    labelled.push({ range, field: 'ipam.subnet' });
  }
  const ranges = readList(ipam, 'ranges', 'ipam.ranges');
  if (ranges !== undefined) {
    for (const [i, raw] of ranges.entries()) {
      const set = parseRangeSet(raw, `ipam.ranges[${i}]`);
      sets.push(set);
      set.forEach((range, j) => labelled.push({ range, field: `ipam.ranges[${i}][${j}]` }));
    }
  }
  if (sets.length === 0) throw new FieldError('ipam.ranges', 'is missing (or give "ipam.subnet")');
  assertNoOverlap(labelled);
  return sets;
}

function parseRoutes(ipam: Record<string, unknown>): Route[] {
  return (readList(ipam, 'routes', 'ipam.routes') ?? []).map((route, i) => {
    const field = `ipam.routes[${i}]`;
    if (!isObject(route)) throw mustBe(field, 'an object', route);
    if (readParsed(route, 'dst', CIDR, `${field}.dst`) === undefined) throw new FieldError(`${field}.dst`, 'is missing');
    const gw = readParsed(route, 'gw', IP_ADDRESS, `${field}.gw`);
    const dst = route.dst as string;
    return gw === undefined ? { dst } : { dst, gw: route.gw as string };
  });
}

interface RequestedSource {
  field: string;
  values: readonly unknown[];
  code: number;
}

function requestedSources(conf: NetConf, request: Request): RequestedSource[] {
  const sources: RequestedSource[] = [];
  const fromArgs = request.args.get('IP');
  if (fromArgs) sources.push({ field: 'CNI_ARGS IP', values: fromArgs.split(','), code: ErrorCode.InvalidEnvironment });
  const cniArgs = isObject(conf.args) && isObject(conf.args.cni) ? conf.args.cni : undefined;
  for (const [field, value] of [
    ['args.cni.ips', cniArgs?.ips],
    ['runtimeConfig.ips', conf.runtimeConfig?.ips],
  ] as const) {
    if (value === undefined || value === null) continue;
    if (!Array.isArray(value)) throw mustBe(field, 'a list', value);
    sources.push({ field, values: value, code: ErrorCode.InvalidConfig });
  }
  return sources;
}

/** Assigns each requested address (IP or CIDR) to the one range set that holds it. */
function parseRequested(conf: NetConf, request: Request, sets: readonly RangeSet[]): (IP | undefined)[] {
  const requested: (IP | undefined)[] = sets.map(() => undefined);
  for (const source of requestedSources(conf, request)) {
    source.values.forEach((value, i) => {
      const field = `${source.field}[${i}]`;
      const fail = (problem: string): CniError => new CniError(source.code, `invalid ${source.code === ErrorCode.InvalidConfig ? 'config' : 'environment'}: "${field}" ${problem}`);
      const text = typeof value === 'string' ? value.trim() : '';
      const ip = parseCidr(text)?.ip ?? parseIp(text);
      if (!ip) throw fail(`"${String(value)}" is not an IP address`);
      const index = findRangeSet(sets, ip);
      if (index < 0) throw fail(`"${text}" is in no configured range`);
      const range = sets[index]!.find((r) => isAllocatable(r, ip));
      if (!range) throw fail(`"${text}" is the gateway, network or broadcast address of its range`);
      const earlier = requested[index];
      if (earlier && !sameIp(earlier, ip)) throw fail(`"${text}" is a second address for range set ${index} (already "${formatIp(earlier)}")`);
      requested[index] = ip;
    });
  }
  return requested;
}

/** The network name (a directory under dataDir) was checked by the skeleton: a plain name of at most 64 characters. */
export function parseHostLocalConfig(conf: NetConf, request: Request): HostLocalConfig {
  const ipam = readObject(conf, 'ipam');
  if (!ipam) throw new FieldError('ipam', 'is missing');
  const rangeSets = parseRangeSets(ipam);
  const resolvConf = readParsed(ipam, 'resolvConf', ABSOLUTE_PATH, 'ipam.resolvConf');
  return {
    network: conf.name,
    dataDir: readParsed(ipam, 'dataDir', ABSOLUTE_PATH, 'ipam.dataDir') ?? DEFAULT_DATA_DIR,
    rangeSets,
    routes: parseRoutes(ipam),
    ...(resolvConf !== undefined ? { resolvConf } : {}),
    // Only ADD uses them; a DEL must not fail on a malformed request.
    requested: request.command === 'ADD' ? parseRequested(conf, request, rangeSets) : rangeSets.map(() => undefined),
  };
}
