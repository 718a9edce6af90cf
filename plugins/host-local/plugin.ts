import { runAll } from '../cni/run-all.ts';
import { CniError, ErrorCode, toCniError } from '../cni/errors.ts';
import type { Context, Plugin } from '../cni/skeleton.ts';
import type { Attachment, DNS, IPConfig, Result } from '../cni/types.ts';
import { formatIp, sameIp, type IP } from '../../lib/ip.ts';
import { heldBy, orphaned, type Allocation, type AllocationStore, type Owner } from './allocation.ts';
import { freeAddresses } from './allocator.ts';
import { parseHostLocalConfig, type HostLocalConfig } from './config.ts';
import { parseResolvConf } from './dns.ts';
import { describeRangeSet, rangeContains, type RangeSet } from './range.ts';

// weft-host-local's verbs over an allocation store. One address per range set; an ADD that fails
// part-way frees what it reserved, and a repeated ADD of the same attachment returns what it holds.

export interface HostLocalDeps {
  openStore(config: HostLocalConfig): AllocationStore;
  readFile(path: string): string;
}

function ownerOf(ctx: Context<HostLocalConfig>): Owner {
  return { containerId: ctx.request.containerId, ifname: ctx.request.ifname };
}

function inSet(set: RangeSet, ip: IP): boolean {
  return set.some((range) => rangeContains(range, ip));
}

/** The taken addresses of the set's family, as the allocator wants them. */
function takenIn(allocations: readonly Allocation[], set: RangeSet): Set<bigint> {
  const family = set[0]!.subnet.ip.family;
  return new Set(allocations.filter((a) => a.ip.family === family).map((a) => a.ip.value));
}

function ipConfig(set: RangeSet, ip: IP): IPConfig {
  const range = set.find((r) => rangeContains(r, ip))!;
  return { address: `${formatIp(ip)}/${range.subnet.prefix}`, gateway: formatIp(range.gateway) };
}

function reserveRequested(store: AllocationStore, ip: IP, owner: Owner): IP {
  if (!store.reserve(ip, owner)) {
    throw new CniError(ErrorCode.PoolExhausted, `cannot reserve requested address "${formatIp(ip)}": it is taken`);
  }
  return ip;
}

function reserveNext(store: AllocationStore, set: RangeSet, options: { index: number; owner: Owner; allocations: readonly Allocation[] }): IP {
  for (const ip of freeAddresses(set, { last: store.lastReserved(options.index), taken: takenIn(options.allocations, set) })) {
    // A parallel ADD may have claimed it since the listing: the claim decides, the listing only saves attempts.
    if (store.reserve(ip, options.owner)) return ip;
  }
  throw new CniError(ErrorCode.PoolExhausted, `cannot allocate from range set ${options.index} ${describeRangeSet(set)}: every address is taken`);
}

function readDns(config: HostLocalConfig, deps: HostLocalDeps): DNS | undefined {
  if (config.resolvConf === undefined) return undefined;
  try {
    return parseResolvConf(deps.readFile(config.resolvConf));
  } catch (error) {
    throw toCniError(error, ErrorCode.IOFailure, `read resolvConf "${config.resolvConf}"`);
  }
}

async function add(ctx: Context<HostLocalConfig>, deps: HostLocalDeps): Promise<Result> {
  const { config } = ctx;
  const owner = ownerOf(ctx);
  const dns = readDns(config, deps);
  const store = deps.openStore(config);
  const allocations = store.list();
  const held = heldBy(allocations, owner);
  const reserved: IP[] = [];
  const ips: IPConfig[] = [];
  try {
    for (const [index, set] of config.rangeSets.entries()) {
      const requested = config.requested[index];
      const existing = held.find((ip) => inSet(set, ip) && (!requested || sameIp(ip, requested)));
      const ip = existing ?? (requested ? reserveRequested(store, requested, owner) : reserveNext(store, set, { index, owner, allocations }));
      if (!existing) {
        reserved.push(ip);
        store.setLastReserved(index, ip);
      }
      ips.push(ipConfig(set, ip));
    }
  } catch (error) {
    for (const ip of reserved) {
      try {
        store.release(ip);
      } catch {
        // The runtime needs the error that stopped the ADD; an address left behind is an orphan GC frees.
      }
    }
    throw toCniError(error, ErrorCode.IOFailure, 'allocate an address');
  }
  return { cniVersion: ctx.conf.cniVersion, ips, routes: [...config.routes], ...(dns ? { dns } : {}) };
}

async function del(ctx: Context<HostLocalConfig>, deps: HostLocalDeps): Promise<void> {
  const store = deps.openStore(ctx.config);
  for (const ip of heldBy(store.list(), ownerOf(ctx))) store.release(ip);
}

async function check(ctx: Context<HostLocalConfig>, deps: HostLocalDeps): Promise<void> {
  const owner = ownerOf(ctx);
  const held = heldBy(deps.openStore(ctx.config).list(), owner);
  for (const [index, set] of ctx.config.rangeSets.entries()) {
    if (!held.some((ip) => inSet(set, ip))) {
      throw new CniError(ErrorCode.CheckMismatch, `cannot find an address of container "${owner.containerId}" interface "${owner.ifname}" in range set ${index} ${describeRangeSet(set)}`);
    }
  }
}

async function status(ctx: Context<HostLocalConfig>, deps: HostLocalDeps): Promise<void> {
  const allocations = deps.openStore(ctx.config).list();
  for (const [index, set] of ctx.config.rangeSets.entries()) {
    if (freeAddresses(set, { taken: takenIn(allocations, set) }).next().done) {
      throw new CniError(ErrorCode.NotAvailable, `cannot allocate from range set ${index} ${describeRangeSet(set)}: every address is taken`);
    }
  }
}

async function gc(ctx: Context<HostLocalConfig>, valid: readonly Attachment[], deps: HostLocalDeps): Promise<void> {
  const store = deps.openStore(ctx.config);
  const [first] = await runAll(orphaned(store.list(), valid), (ip) => store.release(ip));
  if (first) throw toCniError(first.error, ErrorCode.IOFailure, `release "${formatIp(first.item)}"`);
}

export function createHostLocalPlugin(deps: HostLocalDeps): Plugin<HostLocalConfig> {
  return {
    parseConfig: parseHostLocalConfig,
    add: (ctx) => add(ctx, deps),
    del: (ctx) => del(ctx, deps),
    check: (ctx) => check(ctx, deps),
    status: (ctx) => status(ctx, deps),
    gc: (ctx, valid) => gc(ctx, valid, deps),
  };
}
