import { isObject } from '../../lib/json.ts';
import { isPlainName, isSafeAbsolutePath } from '../../lib/names.ts';
import { CniError, ErrorCode, invalidConfig } from '../cni/errors.ts';
import type { Request } from '../cni/request.ts';
import type { NetConf, Route } from '../cni/types.ts';
import { cidrContains, compareIps, familyBits, formatIp, lastAddress, networkAddress, offsetIp, parseCidr, parseIp, sameIp, type IP } from '../../lib/ip.ts';
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
// A network name is a directory under dataDir: within NAME_MAX.
const NETWORK_NAME_MAX = 254;

function optionalString(section: Record<string, unknown>, key: string, field: string): string | undefined {
  const value = section[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalidConfig(field, 'must be a string');
  return value;
}

function parseAddress(text: string, field: string): IP {
  const ip = parseIp(text);
  if (!ip) throw invalidConfig(field, `"${text}" is not an IP address`);
  return ip;
}

function parseBound(section: Record<string, unknown>, key: string, field: string, range: { subnet: Range['subnet'] }): IP | undefined {
  const text = optionalString(section, key, field);
  if (text === undefined) return undefined;
  const ip = parseAddress(text, field);
  if (!cidrContains(range.subnet, ip)) throw invalidConfig(field, `"${text}" is outside the subnet "${formatIp(range.subnet.ip)}/${range.subnet.prefix}"`);
  return ip;
}

/** One range, with the reference's defaults: start and gateway at network+1, end at the last address (IPv4: broadcast-1). */
function parseRange(raw: unknown, field: string): Range {
  if (!isObject(raw)) throw invalidConfig(field, 'must be an object');
  const subnetText = optionalString(raw, 'subnet', `${field}.subnet`);
  if (subnetText === undefined) throw invalidConfig(`${field}.subnet`, 'is missing');
  const parsed = parseCidr(subnetText);
  if (!parsed) throw invalidConfig(`${field}.subnet`, `"${subnetText}" is not a CIDR`);
  const bits = familyBits(parsed.ip.family);
  if (parsed.prefix > bits - 2) throw invalidConfig(`${field}.subnet`, `"${subnetText}" is too small to allocate from`);
  const subnet = { ip: networkAddress(parsed), prefix: parsed.prefix };
  if (!sameIp(subnet.ip, parsed.ip)) throw invalidConfig(`${field}.subnet`, `"${subnetText}" has host bits set (network address "${formatIp(subnet.ip)}")`);
  const first = offsetIp(subnet.ip, 1n);
  const last = subnet.ip.family === 4 ? offsetIp(lastAddress(subnet), -1n) : lastAddress(subnet);
  const rangeStart = parseBound(raw, 'rangeStart', `${field}.rangeStart`, { subnet }) ?? first;
  const rangeEnd = parseBound(raw, 'rangeEnd', `${field}.rangeEnd`, { subnet }) ?? last;
  const gateway = parseBound(raw, 'gateway', `${field}.gateway`, { subnet }) ?? first;
  if (compareIps(rangeStart, rangeEnd) > 0) throw invalidConfig(`${field}.rangeEnd`, `"${formatIp(rangeEnd)}" is before rangeStart "${formatIp(rangeStart)}"`);
  return { subnet, rangeStart, rangeEnd, gateway };
}

function parseRangeSet(raw: unknown, field: string): RangeSet {
  if (!Array.isArray(raw) || raw.length === 0) throw invalidConfig(field, 'must be a non-empty list of ranges');
  const set = raw.map((r, j) => parseRange(r, `${field}[${j}]`));
  const family = set[0]!.subnet.ip.family;
  const mixed = set.findIndex((r) => r.subnet.ip.family !== family);
  if (mixed >= 0) throw invalidConfig(`${field}[${mixed}].subnet`, `mixes IPv${set[mixed]!.subnet.ip.family} into an IPv${family} range set`);
  return set;
}

interface LabelledRange {
  range: Range;
  field: string;
}

function assertNoOverlap(ranges: readonly LabelledRange[]): void {
  for (const [i, a] of ranges.entries()) {
    const b = ranges.slice(0, i).find((earlier) => rangesOverlap(earlier.range, a.range));
    if (b) throw invalidConfig(a.field, `overlaps "${b.field}"`);
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
  if (ipam.ranges !== undefined) {
    if (!Array.isArray(ipam.ranges)) throw invalidConfig('ipam.ranges', 'must be a list of range sets');
    for (const [i, raw] of ipam.ranges.entries()) {
      const set = parseRangeSet(raw, `ipam.ranges[${i}]`);
      sets.push(set);
      set.forEach((range, j) => labelled.push({ range, field: `ipam.ranges[${i}][${j}]` }));
    }
  }
  if (sets.length === 0) throw invalidConfig('ipam.ranges', 'is missing (or give "ipam.subnet")');
  assertNoOverlap(labelled);
  return sets;
}

function parseRoutes(raw: unknown): Route[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidConfig('ipam.routes', 'must be a list');
  return raw.map((route, i) => {
    const field = `ipam.routes[${i}]`;
    if (!isObject(route)) throw invalidConfig(field, 'must be an object');
    const dst = optionalString(route, 'dst', `${field}.dst`);
    if (dst === undefined || !parseCidr(dst)) throw invalidConfig(`${field}.dst`, `must be a CIDR, got "${String(route.dst)}"`);
    const gw = optionalString(route, 'gw', `${field}.gw`);
    if (gw !== undefined) parseAddress(gw, `${field}.gw`);
    return gw === undefined ? { dst } : { dst, gw };
  });
}

function parsePath(ipam: Record<string, unknown>, key: string): string | undefined {
  const field = `ipam.${key}`;
  const path = optionalString(ipam, key, field);
  if (path === undefined) return undefined;
  if (!isSafeAbsolutePath(path)) {
    throw invalidConfig(field, `"${path}" must be an absolute path without ".."`);
  }
  return path;
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
    if (!Array.isArray(value)) throw invalidConfig(field, 'must be a list');
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

export function parseHostLocalConfig(conf: NetConf, request: Request): HostLocalConfig {
  const ipam = conf.ipam;
  if (!isObject(ipam)) throw invalidConfig('ipam', 'is missing');
  if (!isPlainName(conf.name) || conf.name.length > NETWORK_NAME_MAX) throw invalidConfig('name', `"${conf.name}" must be letters, digits, "_", "." and "-"`);
  const rangeSets = parseRangeSets(ipam);
  const resolvConf = parsePath(ipam, 'resolvConf');
  return {
    network: conf.name,
    dataDir: parsePath(ipam, 'dataDir') ?? DEFAULT_DATA_DIR,
    rangeSets,
    routes: parseRoutes(ipam.routes),
    ...(resolvConf !== undefined ? { resolvConf } : {}),
    // Only ADD uses them; a DEL must not fail on a malformed request.
    requested: request.command === 'ADD' ? parseRequested(conf, request, rangeSets) : rangeSets.map(() => undefined),
  };
}
