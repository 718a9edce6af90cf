import { run } from '../lib/exec.ts';
import { createLogger } from '../lib/log.ts';
import type { IptablesBackend } from '../proxy/apply-iptables.ts';
import { serviceChainName } from '../proxy/chain-names.ts';
import { DEFAULT_MASQUERADE_BIT, masqueradeMarkFromBit, type ProxyConfig } from '../proxy/config.ts';
import { IptablesProxier } from '../proxy/iptables-proxier.ts';
import { NftablesProxier } from '../proxy/nftables-proxier.ts';
import { groupNames } from '../proxy/nftables/render.ts';
import { renderIptables } from '../proxy/iptables/render.ts';
import { parseClusterObjects, type ClusterObjects } from '../proxy/objects.ts';
import { buildProxyState } from '../proxy/state.ts';
import { CLUSTER_CIDR } from '../lab/kube/control-plane-args.ts';
import { deleteNetns, type NetnsScope } from '../test/support/netns.ts';
import { withBackend } from './proxy-backend.ts';
import { BENCH_NAMESPACE, BENCH_NODE, changedAddresses, generateObjects, replacementIP, serviceName, servicePortKey, sliceObject, TARGET_PORT } from './proxy-objects.ts';

// Part one of bench:proxy, needing no API server: the daemon's sync code (IptablesProxier: state,
// render, one restore) against the floor, for one size and one iptables backend. A full sync into an
// empty node namespace, the same payload restored alone into a second empty namespace (the floor: what
// iptables-restore and the kernel cost without us), then one endpoint change: a partial sync in the
// first namespace, and its payload restored alone in the second (which then holds the same rules).

const BENCH_CONFIG: ProxyConfig = {
  hostname: BENCH_NODE,
  clusterCidr: CLUSTER_CIDR,
  masqueradeMark: masqueradeMarkFromBit(DEFAULT_MASQUERADE_BIT),
  nodePortAddresses: [],
};

export interface FloorCase {
  readonly services: number;
  readonly endpoints: number;
  readonly backend: IptablesBackend;
  /** Per restore; a restore past it is killed and reported as undefined. */
  readonly limitMs: number;
}

export interface FloorResult {
  readonly services: number;
  readonly backend: IptablesBackend;
  readonly payloadLines: number;
  /** Objects to desired state (buildProxyState), in the bench process. */
  readonly stateMs: number;
  /** Pure render of the full payload. */
  readonly renderMs: number;
  /** IptablesProxier full sync into an empty namespace: save, state, render, restore. */
  readonly fullSyncMs: number;
  /** iptables-restore --noflush of the same payload alone; undefined past the limit. */
  readonly floorMs?: number;
  /** IptablesProxier partial sync after one endpoint change (only that Service marked changed). */
  readonly endpointChangeMs: number;
  /** That partial payload restored alone; undefined past the limit. */
  readonly endpointChangeFloorMs?: number;
}

/** The objects after the endpoints of the middle Service were replaced, and that Service as the change. */
function oneEndpointChanged(items: readonly unknown[], c: { services: number; endpoints: number }): { index: number; objects: ReturnType<typeof parseClusterObjects>; services: Set<string> } {
  const index = Math.floor(c.services / 2);
  // Items alternate Service, EndpointSlice: the slice of Service i is item 2i+1.
  const newItems = items.map((item, i) => (i === 2 * index + 1 ? sliceObject(index, changedAddresses(index, c.endpoints, 0)) : item));
  return { index, objects: parseClusterObjects({ kind: 'List', items: newItems }), services: new Set([`${BENCH_NAMESPACE}/${serviceName(index)}`]) };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

/** The changed endpoint's DNAT is in the Service's chain: the change really reached the kernel. */
async function assertDnat(netns: string, backend: IptablesBackend, change: { index: number; ip: string }): Promise<void> {
  const { index, ip } = change;
  const chain = serviceChainName('SVC', { key: servicePortKey(index), protocol: 'tcp' });
  const listed = await run(`iptables-${backend}`, ['-t', 'nat', '-S', chain], { netns });
  if (!listed.stdout.includes(`--to-destination ${ip}:${TARGET_PORT}`)) throw new Error(`cannot confirm the endpoint change: chain "${chain}" has no DNAT to "${ip}:${TARGET_PORT}"`);
}

/** The apply layer's program and flags (restoreRules), run directly to bound it in time; ms or undefined past the limit. */
async function restoreAlone(netns: string, payload: string, c: FloorCase): Promise<number | undefined> {
  const started = performance.now();
  const result = await run(`iptables-${c.backend}-restore`, ['--noflush', '-w'], { netns, input: payload, timeoutMs: c.limitMs });
  if (result.code === 0) return elapsed(started);
  if (elapsed(started) < c.limitMs) throw new Error(`cannot restore the floor payload: exit ${result.code}: ${result.stderr.trim()}`);
  return undefined;
}

const optional = <K extends string>(key: K, value: number | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, number>));

export function runFloorCase(scope: NetnsScope, c: FloorCase): Promise<FloorResult> {
  return withBackend(c.backend, () => floorCase(scope, c));
}

async function floorCase(scope: NetnsScope, c: FloorCase): Promise<FloorResult> {
  const items = generateObjects({ from: 0, to: c.services }, c.endpoints);
  const objects: ClusterObjects = parseClusterObjects({ kind: 'List', items });
  let started = performance.now();
  const state = buildProxyState(objects, BENCH_CONFIG);
  const stateMs = elapsed(started);
  started = performance.now();
  renderIptables(state, BENCH_CONFIG);
  const renderMs = elapsed(started);

  const node = await scope.create(`pf-${c.backend}-${c.services}`);
  const floorNode = await scope.create(`pff-${c.backend}-${c.services}`);
  try {
    return await measure({ node: node.path, floorNode: floorNode.path }, c, { items, objects, stateMs, renderMs });
  } finally {
    // Freed now, not at the end: 230k rules per namespace add up over a run.
    await deleteNetns(node.name);
    await deleteNetns(floorNode.name);
  }
}

interface Prepared {
  readonly items: readonly Record<string, unknown>[];
  readonly objects: ClusterObjects;
  readonly stateMs: number;
  readonly renderMs: number;
}

async function measure(ns: { node: string; floorNode: string }, c: FloorCase, prepared: Prepared): Promise<FloorResult> {
  const { items, objects, stateMs, renderMs } = prepared;
  let started: number;
  const log = createLogger({ component: 'bench-proxy', level: 'error' });
  const proxier = new IptablesProxier({ log, netns: ns.node });
  const noChanges = { services: new Set<string>(), node: false, triggerTimes: [] };
  started = performance.now();
  const full = await proxier.sync('full', objects, { config: BENCH_CONFIG, changes: noChanges });
  const fullSyncMs = elapsed(started);
  const floorMs = await restoreAlone(ns.floorNode, full.payload, c);

  const change = oneEndpointChanged(items, c);
  started = performance.now();
  const partial = await proxier.sync('partial', change.objects, { config: BENCH_CONFIG, changes: { ...noChanges, services: change.services } });
  const endpointChangeMs = elapsed(started);
  await assertDnat(ns.node, c.backend, { index: change.index, ip: replacementIP(0) });
  const endpointChangeFloorMs = floorMs === undefined ? undefined : await restoreAlone(ns.floorNode, partial.payload, c);

  return {
    services: c.services,
    backend: c.backend,
    payloadLines: full.payload.split('\n').length - 1,
    stateMs,
    renderMs,
    fullSyncMs,
    ...optional('floorMs', floorMs),
    endpointChangeMs,
    ...optional('endpointChangeFloorMs', endpointChangeFloorMs),
  };
}

export interface NftablesFloorResult {
  readonly services: number;
  readonly payloadLines: number;
  /** NftablesProxier full sync into an empty namespace: state, table, one `nft -f`. */
  readonly fullSyncMs: number;
  /** Its partial sync after one endpoint change (element lines only). */
  readonly endpointChangeMs: number;
  readonly endpointChangeLines: number;
}

/** The replacement endpoint is in the group's map: the change really reached the kernel. */
async function assertNftElement(netns: string, endpoints: number, ip: string): Promise<void> {
  const listed = await run('nft', ['list', 'map', 'ip', 'weft', groupNames(endpoints).endpoints], { netns });
  if (!listed.stdout.includes(`${ip} . ${TARGET_PORT}`)) throw new Error(`cannot confirm the endpoint change: map "${groupNames(endpoints).endpoints}" has no element to "${ip} . ${TARGET_PORT}"`);
}

/** The same objects and endpoint change as the iptables cases, through the nftables proxier. */
export async function runNftablesCase(scope: NetnsScope, c: { services: number; endpoints: number }): Promise<NftablesFloorResult> {
  const items = generateObjects({ from: 0, to: c.services }, c.endpoints);
  const objects = parseClusterObjects({ kind: 'List', items });
  const node = await scope.create(`pfn-${c.services}`);
  try {
    const proxier = new NftablesProxier({ log: createLogger({ component: 'bench-proxy', level: 'error' }), netns: node.path });
    const noChanges = { services: new Set<string>(), node: false, triggerTimes: [] };
    let started = performance.now();
    const full = await proxier.sync('full', objects, { config: BENCH_CONFIG, changes: noChanges });
    const fullSyncMs = elapsed(started);
    const change = oneEndpointChanged(items, c);
    started = performance.now();
    const partial = await proxier.sync('partial', change.objects, { config: BENCH_CONFIG, changes: { ...noChanges, services: change.services } });
    const endpointChangeMs = elapsed(started);
    await assertNftElement(node.path, c.endpoints, replacementIP(0));
    return { services: c.services, payloadLines: full.payload.split('\n').length - 1, fullSyncMs, endpointChangeMs, endpointChangeLines: partial.payload.split('\n').length - 1 };
  } finally {
    await deleteNetns(node.name);
  }
}
