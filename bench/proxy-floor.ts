import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../lib/exec.ts';
import { DEFAULT_MASQUERADE_BIT, masqueradeMarkFromBit, type ProxyConfig } from '../proxy/core/config.ts';
import { parseEndpointSlice, parseService } from '../proxy/core/objects.ts';
import { serviceKey, serviceState } from '../proxy/core/state.ts';
import { renderPartialSync } from '../proxy/nftables/partial-sync.ts';
import { groupKey } from '../proxy/nftables/groups.ts';
import { buildNftTable } from '../proxy/nftables/render.ts';
import { renderFullSync } from '../proxy/nftables/table.ts';
import { buildProxyState } from '../proxy/core/state.ts';
import { parseClusterObjects } from '../proxy/core/objects.ts';
import { CLUSTER_CIDR } from '../lab/kube/control-plane-args.ts';
import { deleteNetns, type Netns, type NetnsScope } from '../test/support/netns.ts';
import { BENCH_NAMESPACE, changedAddresses, endpointAddresses, generateObjects, serviceName, serviceObject, sliceObject } from './proxy-objects.ts';
import { summarize, type Summary } from './stats.ts';

// The floors of weft-proxy's nftables figures, from the same run: the element update weft-proxy writes
// for one changed endpoint (rendered by its own code), applied with `nft -f` alone in the node
// namespace that holds its table; and its full sync's payload loaded with `nft -f` alone into an
// empty namespace. Each is timed inside the namespace by the shell around one nft run.

const RUNS = 20;
const CONFIG: ProxyConfig = { hostname: 'bench-floor', clusterCidr: CLUSTER_CIDR, masqueradeMark: masqueradeMarkFromBit(DEFAULT_MASQUERADE_BIT), nodePortAddresses: [] };

export interface FloorResult extends Summary {
  /** One of the payloads, for the record. */
  readonly payload: string;
  /** weft-proxy's full sync payload for the same Services, loaded alone into an empty namespace. */
  readonly fullSyncMs?: number;
}

function ports(index: number, addresses: readonly string[]) {
  const service = parseService(serviceObject(index));
  return serviceState(service, [parseEndpointSlice(sliceObject(index, addresses))], CONFIG.hostname).servicePorts;
}

/** The payload of one endpoint change of Service `index` (its last endpoint replaced by change `change`'s address). */
export function endpointChangePayload(index: number, c: { services: number; endpoints: number; change: number }): string {
  const before = ports(index, endpointAddresses(index, c.endpoints));
  const after = ports(index, changedAddresses(index, c.endpoints, c.change));
  const payload = renderPartialSync([{ service: serviceKey(BENCH_NAMESPACE, serviceName(index)), before, after }], new Map([[groupKey('tcp', c.endpoints), c.services]]), CONFIG)?.payload;
  if (payload === undefined) throw new Error('cannot render the floor payload: weft-proxy would need a full sync for it');
  return payload;
}

/** `nft -f` of each file in turn inside `netns`, each timed there; ms per file. */
async function timedNft(netns: string, files: readonly string[]): Promise<number[]> {
  const script = 'for f in "$@"; do s=$EPOCHREALTIME; nft -f "$f" || exit 1; e=$EPOCHREALTIME; echo "$s $e"; done';
  const result = await run('bash', ['-c', script, 'floor', ...files], { netns, timeoutMs: 300_000 });
  if (result.code !== 0) throw new Error(`cannot measure the nft floor: exit ${result.code}: ${result.stderr.trim()}`);
  return result.stdout.trim().split('\n').map((line) => {
    const [start, end] = line.split(' ').map(Number) as [number, number];
    return Math.round((end - start) * 10000) / 10;
  });
}

/** The full sync payload weft-proxy renders for the generated Services. */
export function fullSyncPayload(c: { services: number; endpoints: number }): string {
  const objects = parseClusterObjects({ kind: 'List', items: generateObjects({ from: 0, to: c.services }, c.endpoints) });
  return renderFullSync(buildNftTable(buildProxyState(objects, CONFIG), CONFIG));
}

/** The endpoint-change floor, in the node namespace while the benchmark's monitor listens there, as it did for weft-proxy's changes. */
export async function changeFloor(node: Netns, c: { services: number; endpoints: number; base: number }): Promise<Omit<FloorResult, 'fullSyncMs'>> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-floor-'));
  try {
    const files = Array.from({ length: RUNS }, (_, k) => {
      const file = join(dir, `change-${k}.nft`);
      writeFileSync(file, endpointChangePayload(Math.floor(((k + 0.25) * c.services) / RUNS), { ...c, change: c.base + k }), { mode: 0o600 });
      return file;
    });
    return { ...summarize(await timedNft(node.path, files)), payload: endpointChangePayload(0, { ...c, change: c.base }) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The full sync floor, in an empty namespace. Call it with no `nft monitor` listening anywhere, as
 * none listened during weft-proxy's full sync: a monitor in any namespace slowed this load from
 * 0.66-1.0 s to 1.1-2.2 s here (4 alternating runs).
 */
export async function fullSyncFloor(c: { services: number; endpoints: number; scope: NetnsScope }): Promise<number | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-floor-'));
  const empty = await c.scope.create('pfloor');
  try {
    const full = join(dir, 'full.nft');
    writeFileSync(full, fullSyncPayload(c), { mode: 0o600 });
    return (await timedNft(empty.path, [full]))[0];
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await deleteNetns(empty.name);
  }
}
