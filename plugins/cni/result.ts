import { isObject } from '../../lib/json.ts';
import { CniError, ErrorCode } from './errors.ts';
import type { Result, IPConfig, Route, Interface } from './types.ts';
import { compareVersions } from './version.ts';

// Results travel in the version the runtime asked for. 0.3.x and 0.4.0 tag each IP with "version";
// 1.0.0 dropped that; 1.1.0 added route mtu/advmss/priority/table/scope. Internally weft holds the 1.1.0 form.

function ipFamily(cidr: string): '4' | '6' {
  return cidr.includes(':') ? '6' : '4';
}

/** Reads a result (a delegate's output or a prevResult) of any supported version into the 1.1.0 form. */
export function parseResult(raw: unknown): Result {
  if (!isObject(raw)) throw new CniError(ErrorCode.DecodeFailure, 'cannot decode result: not a JSON object');
  const version = typeof raw.cniVersion === 'string' ? raw.cniVersion : '';
  if (compareVersions(version, '0.3.0') < 0) {
    throw new CniError(ErrorCode.IncompatibleVersion, `cannot use result of version "${version}": 0.3.0 or later is needed`);
  }
  const list = (key: string): unknown[] => (Array.isArray(raw[key]) ? (raw[key] as unknown[]) : []);
  const interfaces: Interface[] = list('interfaces').filter(isObject).map((i) => ({
    name: String(i.name ?? ''),
    ...(typeof i.mac === 'string' ? { mac: i.mac } : {}),
    ...(typeof i.mtu === 'number' ? { mtu: i.mtu } : {}),
    ...(typeof i.sandbox === 'string' ? { sandbox: i.sandbox } : {}),
  }));
  const ips: IPConfig[] = list('ips').filter(isObject).map((ip) => ({
    address: String(ip.address ?? ''),
    ...(typeof ip.gateway === 'string' ? { gateway: ip.gateway } : {}),
    ...(typeof ip.interface === 'number' ? { interface: ip.interface } : {}),
  }));
  const routes: Route[] = list('routes').filter(isObject).map((r) => {
    const route: Route = { dst: String(r.dst ?? '') };
    if (typeof r.gw === 'string') route.gw = r.gw;
    // Route attributes are unsigned 32-bit numbers to the kernel; anything else would not parse in `ip route`.
    for (const key of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) {
      const value = r[key];
      if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff) route[key] = value;
    }
    return route;
  });
  const result: Result = { cniVersion: version };
  if (interfaces.length) result.interfaces = interfaces;
  if (ips.length) result.ips = ips;
  if (routes.length) result.routes = routes;
  if (isObject(raw.dns)) result.dns = raw.dns as Result['dns'];
  return result;
}

/** Renders a result in the given version's JSON form. */
export function renderResult(result: Result, version: string): Record<string, unknown> {
  const legacy = compareVersions(version, '1.0.0') < 0;
  const routeExtras = compareVersions(version, '1.1.0') >= 0;
  const out: Record<string, unknown> = { cniVersion: version };
  if (result.interfaces?.length) out.interfaces = result.interfaces;
  out.ips = (result.ips ?? []).map((ip) => (legacy ? { version: ipFamily(ip.address), ...ip } : ip));
  if (result.routes?.length) {
    out.routes = result.routes.map((r) => (routeExtras ? r : { dst: r.dst, ...(r.gw ? { gw: r.gw } : {}) }));
  }
  out.dns = result.dns ?? {};
  return out;
}
