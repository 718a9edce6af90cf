import { existsSync, readFileSync } from 'node:fs';
import { run } from '../lib/exec.ts';
import { shortHash } from '../proxy/chain-names.ts';
import type { ControlPlane } from '../lab/kube/control-plane.ts';
import { deleteNetns, type Netns, type NetnsScope } from '../test/support/netns.ts';
import { BENCH_NAMESPACE, BENCH_NODE, changedAddresses, endpointAddresses, generateObjects, servicePortKey, sliceObject, TARGET_PORT } from './proxy-objects.ts';

// Part two of bench:proxy: a real API server holding the Services, and a proxy (upstream kube-proxy or
// weft-proxy) started in a fresh node namespace wired to it. Measured from outside, the same way for
// both: start to the last Service's DNAT in the kernel (full sync), one EndpointSlice write to the new
// endpoint's DNAT (endpoint change), and the proxy's resident memory after the full sync.

export const API_IP = '10.123.0.1';
const FULL_SYNC_POLL_MS = 200;
const CHANGE_POLL_MS = 10;
/** kube-proxy's minSyncPeriod is 1 s: a change right after a sync would wait for it, not show the sync cost. */
const SETTLE_MS = 2_000;

/** A proxy under test: how to start it, and where its rules put one endpoint's DNAT. */
export interface ProxyImplementation {
  readonly name: string;
  start(node: Netns, options: { kubeconfig: string; nodeName: string }): Promise<RunningProxy>;
  /** The chain holding the DNAT of `ip` for Service `index`. */
  dnatChain(index: number, ip: string): string;
}

export interface RunningProxy {
  /** The proxy process itself (not a wrapper), for its memory. */
  readonly pid: number;
  close(): Promise<void>;
}

export interface ClusterCase {
  readonly services: number;
  readonly endpoints: number;
  readonly limitMs: number;
  /** Distinct per case, so each change writes a new address. */
  readonly change: number;
}

export interface ClusterResult {
  readonly proxy: string;
  readonly services: number;
  /** Process start to the last Service's DNAT present; undefined past the limit. */
  readonly fullSyncMs?: number;
  /** EndpointSlice PATCH sent to the new endpoint's DNAT present; undefined past the limit or when the full sync did not finish. */
  readonly endpointChangeMs?: number;
  /** VmRSS after the full sync (or at the limit). */
  readonly rssMiB?: number;
  /** Why this case was not run. */
  readonly skipped?: string;
}

/** kube-proxy's per-endpoint chain: KUBE-SEP- + hash of "namespace/name:port" + protocol + "ip:port". */
export function kubeProxyEndpointChain(index: number, ip: string): string {
  return `KUBE-SEP-${shortHash(`${servicePortKey(index)}tcp${ip}:${TARGET_PORT}`)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function hasDnat(node: Netns, chain: string, ip: string): Promise<boolean> {
  const listed = await node.try('iptables', ['-t', 'nat', '-S', chain]);
  return listed.code === 0 && listed.stdout.includes(`--to-destination ${ip}:${TARGET_PORT}`);
}

/** Polls until the DNAT appears; the elapsed ms since `started`, or undefined at the deadline. Fails when the proxy exits. */
async function waitForDnat(node: Netns, target: { chain: string; ip: string; pid: number }, timing: { started: number; limitMs: number; pollMs: number }): Promise<number | undefined> {
  const deadline = timing.started + timing.limitMs;
  while (performance.now() < deadline) {
    if (await hasDnat(node, target.chain, target.ip)) return Math.round(performance.now() - timing.started);
    if (!existsSync(`/proc/${target.pid}`)) throw new Error(`cannot measure: the proxy (pid ${target.pid}) exited`);
    await sleep(timing.pollMs);
  }
  return undefined;
}

/** The process named `comm` inside the namespace (a proxy started through nsenter and setpriv, which exec). */
export async function pidIn(node: Netns, comm: string): Promise<number | undefined> {
  const listed = await run('ip', ['netns', 'pids', node.name]);
  for (const pid of listed.stdout.split('\n').filter(Boolean)) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) return Number(pid);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

export function rssMiB(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 102.4) / 10;
  } catch {
    return undefined;
  }
}

/** Creates objects with parallel `kubectl create` of List chunks: one process per chunk, a few at a time. */
export async function createObjects(cp: ControlPlane, range: { from: number; to: number }, options: { endpoints: number; progress: (line: string) => void }): Promise<void> {
  const CHUNK = 250;
  const PARALLEL = 6;
  const chunks: { from: number; to: number }[] = [];
  for (let from = range.from; from < range.to; from += CHUNK) chunks.push({ from, to: Math.min(range.to, from + CHUNK) });
  let next = 0;
  let done = range.from;
  const worker = async (): Promise<void> => {
    while (next < chunks.length) {
      const chunk = chunks[next++] as { from: number; to: number };
      await cp.kubectl(['create', '-f', '-', '-o', 'name'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: generateObjects(chunk, options.endpoints) }) });
      done += chunk.to - chunk.from;
      if (done % 1000 === 0 || done === range.to) options.progress(`  api: ${done}/${range.to} Services and EndpointSlices created`);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

interface AdminCredentials {
  readonly cert: string;
  readonly key: string;
}

function adminCredentials(kubeconfig: string): AdminCredentials {
  const user = JSON.parse(readFileSync(kubeconfig, 'utf8')).users[0].user;
  return { cert: user['client-certificate'], key: user['client-key'] };
}

/** One endpoint change, as the EndpointSlice controller makes it: the slice's endpoint list rewritten. */
async function patchSlice(cp: ControlPlane, cpNetns: string, update: { index: number; addresses: readonly string[] }): Promise<void> {
  const slice = sliceObject(update.index, update.addresses) as { metadata: { name: string }; endpoints: unknown };
  const { cert, key } = adminCredentials(cp.kubeconfig);
  const url = `${cp.server}/apis/discovery.k8s.io/v1/namespaces/${BENCH_NAMESPACE}/endpointslices/${slice.metadata.name}`;
  const result = await run(
    'curl',
    ['-sS', '--fail-with-body', '--max-time', '10', '--cacert', cp.caFile, '--cert', cert, '--key', key, '-X', 'PATCH', '-H', 'Content-Type: application/merge-patch+json', '--data-binary', '@-', '-o', '/dev/null', url],
    { netns: cpNetns, input: JSON.stringify({ endpoints: slice.endpoints }) },
  );
  if (result.code !== 0) throw new Error(`cannot patch EndpointSlice "${slice.metadata.name}": curl exit ${result.code}: ${result.stderr.trim()} ${result.stdout.trim()}`);
}

/**
 * A fresh node namespace with a veth to the control plane's namespace (link `n<k>` there, `eth0` here),
 * and its Node object carrying that address: kube-proxy polls 30 s for its Node's addresses at start.
 */
async function createNode(ctx: ClusterContext, k: number): Promise<{ node: Netns; nodeName: string }> {
  const { cpNetns, cp } = ctx;
  const nodeName = `${BENCH_NODE}-${k}`;
  const node = await ctx.scope.create(`pn-${k}`);
  await cpNetns.exec('ip', ['link', 'add', `n${k}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.name]);
  await cpNetns.exec('ip', ['addr', 'add', `10.123.${k}.1/24`, 'dev', `n${k}`]);
  await cpNetns.exec('ip', ['link', 'set', `n${k}`, 'up']);
  await node.exec('ip', ['addr', 'add', `10.123.${k}.2/24`, 'dev', 'eth0']);
  await node.exec('ip', ['link', 'set', 'eth0', 'up']);
  await node.exec('ip', ['route', 'add', 'default', 'via', `10.123.${k}.1`]);
  await cp.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName } }) });
  const status = { status: { addresses: [{ type: 'InternalIP', address: `10.123.${k}.2` }, { type: 'Hostname', address: nodeName }] } };
  await cp.kubectl(['patch', 'node', nodeName, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
  return { node, nodeName };
}

export interface ClusterContext {
  readonly cp: ControlPlane;
  readonly cpNetns: Netns;
  readonly scope: NetnsScope;
  readonly kubeconfig: string;
  /** Counts node namespaces so each gets its own /24 on the control plane's side. */
  nodes: number;
}

export async function runClusterCase(ctx: ClusterContext, impl: ProxyImplementation, c: ClusterCase): Promise<ClusterResult> {
  const { node, nodeName } = await createNode(ctx, ++ctx.nodes);
  let proxy: RunningProxy | undefined;
  try {
    const last = c.services - 1;
    const lastIP = endpointAddresses(last, c.endpoints).at(-1) as string;
    const started = performance.now();
    proxy = await impl.start(node, { kubeconfig: ctx.kubeconfig, nodeName });
    const fullSyncMs = await waitForDnat(node, { chain: impl.dnatChain(last, lastIP), ip: lastIP, pid: proxy.pid }, { started, limitMs: c.limitMs, pollMs: FULL_SYNC_POLL_MS });
    const rss = rssMiB(proxy.pid);
    const base = { proxy: impl.name, services: c.services, ...(fullSyncMs !== undefined ? { fullSyncMs } : {}), ...(rss !== undefined ? { rssMiB: rss } : {}) };
    if (fullSyncMs === undefined) return base;
    const firstIP = endpointAddresses(0, c.endpoints)[0] as string;
    if (!(await hasDnat(node, impl.dnatChain(0, firstIP), firstIP))) throw new Error(`cannot confirm ${impl.name}'s full sync: no DNAT for the first Service`);

    await sleep(SETTLE_MS);
    const index = Math.floor(c.services / 2);
    const addresses = changedAddresses(index, c.endpoints, c.change);
    const newIP = addresses.at(-1) as string;
    const changeStarted = performance.now();
    await patchSlice(ctx.cp, ctx.cpNetns.path, { index, addresses });
    const endpointChangeMs = await waitForDnat(node, { chain: impl.dnatChain(index, newIP), ip: newIP, pid: proxy.pid }, { started: changeStarted, limitMs: c.limitMs, pollMs: CHANGE_POLL_MS });
    return { ...base, ...(endpointChangeMs !== undefined ? { endpointChangeMs } : {}) };
  } finally {
    await proxy?.close();
    await deleteNetns(node.name);
  }
}
