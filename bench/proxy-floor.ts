import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../lib/exec.ts';
import { DEFAULT_MASQUERADE_BIT, masqueradeMarkFromBit, type ProxyConfig } from '../proxy/core/config.ts';
import { parseEndpointSlice, parseService } from '../proxy/core/objects.ts';
import { serviceKey, serviceState } from '../proxy/core/state.ts';
import { renderPartialSync } from '../proxy/nftables/partial-sync.ts';
import { CLUSTER_CIDR } from '../test/support/control-plane-args.ts';
import type { Netns } from '../test/support/netns.ts';
import { BENCH_NAMESPACE, changedAddresses, endpointAddresses, serviceName, serviceObject, sliceObject } from './proxy-objects.ts';
import { summarize, type Summary } from './stats.ts';

// The floor of an nftables endpoint change: the element update weft-proxy writes for one changed
// endpoint (rendered by its own code), applied with `nft -f` alone in the node namespace that holds
// its table, each timed inside the namespace by the shell around one nft run, as the daemon spawns it.

const RUNS = 20;
const CONFIG: ProxyConfig = { hostname: 'bench-floor', clusterCidr: CLUSTER_CIDR, masqueradeMark: masqueradeMarkFromBit(DEFAULT_MASQUERADE_BIT), nodePortAddresses: [] };

export interface FloorResult extends Summary {
  /** One of the payloads, for the record. */
  readonly payload: string;
}

function ports(index: number, addresses: readonly string[]) {
  const service = parseService(serviceObject(index));
  return serviceState(service, [parseEndpointSlice(sliceObject(index, addresses))], CONFIG.hostname).servicePorts;
}

/** The payload of one endpoint change of Service `index` (its last endpoint replaced by change `change`'s address). */
export function endpointChangePayload(index: number, c: { services: number; endpoints: number; change: number }): string {
  const before = ports(index, endpointAddresses(index, c.endpoints));
  const after = ports(index, changedAddresses(index, c.endpoints, c.change));
  const payload = renderPartialSync([{ service: serviceKey(BENCH_NAMESPACE, serviceName(index)), before, after }], new Map([[c.endpoints, c.services]]), CONFIG)?.payload;
  if (payload === undefined) throw new Error('cannot render the floor payload: weft-proxy would need a full sync for it');
  return payload;
}

export async function nftFloor(node: Netns, c: { services: number; endpoints: number; base: number }): Promise<FloorResult> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-floor-'));
  try {
    const files = Array.from({ length: RUNS }, (_, k) => {
      const file = join(dir, `change-${k}.nft`);
      writeFileSync(file, endpointChangePayload(Math.floor(((k + 0.25) * c.services) / RUNS), { ...c, change: c.base + k }), { mode: 0o600 });
      return file;
    });
    const script = 'for f in "$@"; do s=$EPOCHREALTIME; nft -f "$f" || exit 1; e=$EPOCHREALTIME; echo "$s $e"; done';
    const result = await run('bash', ['-c', script, 'floor', ...files], { netns: node.path, timeoutMs: 120_000 });
    if (result.code !== 0) throw new Error(`cannot measure the nft floor: exit ${result.code}: ${result.stderr.trim()}`);
    const samples = result.stdout.trim().split('\n').map((line) => {
      const [start, end] = line.split(' ').map(Number) as [number, number];
      return Math.round((end - start) * 10000) / 10;
    });
    return { ...summarize(samples), payload: endpointChangePayload(0, { ...c, change: c.base }) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
