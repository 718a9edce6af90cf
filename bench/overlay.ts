import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BackgroundProcess } from '../lib/exec.ts';
import { runChecked } from '../lib/exec.ts';
import { deleteNetns, type Netns } from '../lab/netns.ts';
import { createNode, readSubnetVar, startWeftd, type OverlayNode } from '../lab/node.ts';
import { addPod, type Pod } from '../lab/pod.ts';
import { createUnderlay, startEtcd, stopEtcd, type LabSettings, type Underlay } from '../lab/underlay.ts';
import { waitFor } from '../lab/wait.ts';
import { FLANNEL_VERSION, flanneldPath } from '../scripts/flannel-tools.ts';
import { testLabSettings } from '../test/netns/overlay-cluster.ts';
import { startFlanneld } from '../test/support/flanneld.ts';
import { NetnsScope } from '../test/support/netns.ts';
import { EtcdRelay } from './etcd-relay.ts';
import { treeCpuMs } from './process-stats.ts';
import { RouteMonitor } from './route-monitor.ts';
import { ratio, summarize, type Summary } from './stats.ts';

// npm run bench:overlay: weftd beside upstream flanneld, on one etcd and one underlay, in the same run.
// Each daemon runs on its own set of node namespaces (leases under its own prefix), and every figure is
// timed from outside through the kernel (route monitors in every node), trials alternating between the two:
//   lease to routes  a lease written to etcd until its route is on every node of that daemon;
//   CPU per event    the CPU time all of a daemon's processes spent over those trials, per lease added or deleted;
//   join             a new node's daemon started until its route is on every other node and it routes to all of them;
//   throughput       pod to pod across two nodes, iperf3 with one and with four TCP streams.
// Then the same pods' path beside a plain veth pair, for scale.

const ROOT = resolve(import.meta.dirname, '..');
process.env.WEFT_BIN_DIR ??= join(ROOT, 'dist/bin');

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '10' },
    joins: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '10,50' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
  },
});
const TRIALS = Number(values.trials);
const JOINS = Number(values.joins);
const SIZES = values.sizes.split(',').map(Number);
const IPERF_SECONDS = values.seconds;
const ROUNDS = Number(values.rounds);

const NET = '172.30.79';
const NETWORK = { Network: '10.244.0.0/16', SubnetMax: '10.244.199.0', Backend: { Type: 'vxlan', VNI: 1 } };

interface BenchNode {
  node: OverlayNode;
  monitor: RouteMonitor;
  daemon: BackgroundProcess;
  /** The node's pod subnet, "10.244.7.0/24". */
  subnet: string;
}

interface Overlay {
  name: 'weft' | 'flanneld';
  prefix: string;
  /** Underlay address of the first node; a joining node takes firstIndex + 59. */
  firstIndex: number;
  start(node: OverlayNode): BackgroundProcess;
  nodes: BenchNode[];
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

function overlays(): Overlay[] {
  const logFile = (node: OverlayNode): string => join(node.dir, 'daemon.log');
  const weft: Overlay = { name: 'weft', prefix: '/weft-bench/network', firstIndex: 1, nodes: [], start: (node) => startWeftd(node, { args: ['--etcd-prefix=/weft-bench/network'], logFile: logFile(node), logLevel: 'info' }) };
  const flannel: Overlay = { name: 'flanneld', prefix: '/flannel-bench/network', firstIndex: 101, nodes: [], start: (node) => startFlanneld(node, { prefix: '/flannel-bench/network', logFile: logFile(node) }) };
  const chosen = [weft, flannel].filter((o) => values.only === undefined || o.name === values.only);
  if (chosen.length === 0) throw new Error(`cannot run: --only "${values.only}" names no overlay (weft, flanneld)`);
  return chosen;
}

const subnetOf = (node: OverlayNode): string | undefined => readSubnetVar(node, 'FLANNEL_SUBNET')?.replace(/\.1\/(\d+)$/, '.0/$1');
const leaseKey = (overlay: Overlay, subnet: string): string => `${overlay.prefix}/subnets/${subnet.replace('/', '-')}`;

/** Starts the daemon on a fresh node with a route monitor already listening; resolves once it leased a subnet. */
async function startNode(overlay: Overlay, underlay: Underlay, index: number): Promise<{ bench: BenchNode; startedAt: number }> {
  const node = await createNode(underlay, index);
  const monitor = new RouteMonitor(node.ns.path);
  await new Promise((r) => setTimeout(r, 50)); // the monitor subscribes before anything is timed
  const startedAt = Date.now();
  const daemon = overlay.start(node);
  const exited = daemon.exited.then((r) => Promise.reject(new Error(`${overlay.name} on node ${index} exited ${r.code}; log in ${node.dir}/daemon.log`)));
  const subnet = await Promise.race([waitFor(`node ${index}'s subnet file`, async () => subnetOf(node), { timeoutMs: 60_000 }), exited]);
  return { bench: { node, monitor, daemon, subnet }, startedAt };
}

async function stopNode(bench: BenchNode): Promise<void> {
  await bench.daemon.stop('SIGKILL');
  await bench.monitor.stop();
  // The namespace's end of the veth goes when the kernel gets round to the namespace; removing the
  // underlay's end now frees its name for the next node at the same index.
  await bench.node.underlay.ns.exec('ip', ['link', 'del', `v${bench.node.index}`]);
  await deleteNetns(bench.node.ns.name);
}

/** Every node routes to every other node's subnet (waits; nothing timed). */
async function converged(overlay: Overlay): Promise<void> {
  const { nodes } = overlay;
  await RouteMonitor.waitAll(nodes.map((n) => n.monitor), `${overlay.name}'s ${nodes.length} nodes to route to each other`, () =>
    nodes.every((self) => nodes.every((other) => other === self || self.monitor.has(other.subnet))) ? true : undefined,
  );
}

async function growTo(overlay: Overlay, underlay: Underlay, size: number): Promise<void> {
  const started = Date.now();
  while (overlay.nodes.length < size) overlay.nodes.push((await startNode(overlay, underlay, overlay.firstIndex + overlay.nodes.length)).bench);
  await converged(overlay);
  progress(`${overlay.name}: ${size} nodes up and converged in ${Date.now() - started} ms`);
}

/** The latest time any of `monitors` saw dst added (or deleted) after `since`. */
function allSeen(monitors: readonly RouteMonitor[], dst: string, since: number, deleted = false): number | undefined {
  let latest = 0;
  for (const monitor of monitors) {
    const at = monitor.seen(dst, { since, deleted });
    if (at === undefined) return undefined;
    latest = Math.max(latest, at);
  }
  return latest;
}

async function leaseToRoutes(overlay: Overlay, relay: EtcdRelay, trial: number): Promise<number> {
  const subnet = `10.244.${200 + (trial % 50)}.0/24`;
  const mac = `0e:00:00:00:01:${(trial % 200).toString(16).padStart(2, '0')}`;
  const value = JSON.stringify({ PublicIP: `${NET}.${200 + (trial % 50)}`, BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: mac } });
  const monitors = overlay.nodes.map((n) => n.monitor);
  const sentAt = await relay.put(leaseKey(overlay, subnet), value);
  const programmed = await RouteMonitor.waitAll(monitors, `${overlay.name}'s nodes to route ${subnet}`, () => allSeen(monitors, subnet, sentAt));
  const deletedAt = Date.now();
  await relay.delete(leaseKey(overlay, subnet));
  await RouteMonitor.waitAll(monitors, `${overlay.name}'s nodes to drop ${subnet}`, () => allSeen(monitors, subnet, deletedAt, true));
  return programmed - sentAt;
}

async function joinNode(overlay: Overlay, underlay: Underlay, relay: EtcdRelay): Promise<number> {
  const { bench, startedAt } = await startNode(overlay, underlay, overlay.firstIndex + 59);
  try {
    const others = overlay.nodes.map((n) => n.monitor);
    const reachable = (): number | undefined => {
      const theirs = allSeen(others, bench.subnet, startedAt);
      const ours = overlay.nodes.map((n) => bench.monitor.seen(n.subnet, { since: startedAt }));
      if (theirs === undefined || ours.some((at) => at === undefined)) return undefined;
      return Math.max(theirs, ...(ours as number[]));
    };
    const joinedAt = await RouteMonitor.waitAll([...others, bench.monitor], `${overlay.name}'s node ${bench.node.index} to join`, reachable);
    return joinedAt - startedAt;
  } finally {
    await bench.daemon.stop('SIGKILL');
    const deletedAt = Date.now();
    await relay.delete(leaseKey(overlay, bench.subnet));
    await RouteMonitor.waitAll(overlay.nodes.map((n) => n.monitor), `${overlay.name}'s nodes to drop ${bench.subnet}`, () => allSeen(overlay.nodes.map((n) => n.monitor), bench.subnet, deletedAt, true));
    await stopNode(bench);
  }
}

async function iperf(client: Netns, server: Netns, serverIp: string, streams: number): Promise<number> {
  await server.exec('iperf3', ['-s', '-D', '-1']);
  await new Promise((r) => setTimeout(r, 300));
  const report = JSON.parse(await client.exec('iperf3', ['-c', serverIp, '-t', IPERF_SECONDS, '-P', String(streams), '-J']));
  return Math.round((report.end.sum_received.bits_per_second / 1e9) * 100) / 100;
}

async function plainVethThroughput(scope: NetnsScope, streams: number): Promise<number> {
  const a = await scope.create(`veth-a${streams}`);
  const b = await scope.create(`veth-b${streams}`);
  await a.exec('ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b.path]);
  await a.exec('ip', ['-batch', '-'], 'addr add 192.168.250.1/24 dev eth0\nlink set eth0 up\n');
  await b.exec('ip', ['-batch', '-'], 'addr add 192.168.250.2/24 dev eth0\nlink set eth0 up\n');
  return iperf(a, b, '192.168.250.2', streams);
}

/** CPU time of all of an overlay's daemons and the processes below them, in ms. */
const overlayCpuMs = (overlay: Overlay): number => overlay.nodes.reduce((sum, n) => sum + (n.daemon.pid === undefined ? 0 : treeCpuMs(n.daemon.pid)), 0);

function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((x, y) => x - y);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Runs `trial` for each overlay in turn, `count` times, the first overlay changing each round. */
async function alternate<T>(chosen: readonly Overlay[], count: number, trial: (overlay: Overlay, round: number) => Promise<T>): Promise<Record<string, T[]>> {
  const samples: Record<string, T[]> = Object.fromEntries(chosen.map((o) => [o.name, []]));
  for (let round = 0; round < count; round++) {
    const order = round % 2 === 0 ? chosen : [...chosen].reverse();
    for (const overlay of order) samples[overlay.name]!.push(await trial(overlay, round));
  }
  return samples;
}

interface Report {
  leaseToRoutesMs: Record<string, Record<string, Summary>>;
  /** CPU time all of an overlay's daemons spent per lease event (a lease added or deleted), in ms. */
  cpuPerLeaseEventMs: Record<string, Record<string, number>>;
  joinMs: Record<string, Record<string, Summary>>;
  throughputGbps: Record<string, Record<string, number[]>>;
  ratios: Record<string, number>;
}

function printTable(report: Report): void {
  const row = (cells: (string | number)[]) => progress(cells.map((c, i) => String(c).padEnd(i === 0 ? 34 : 14)).join(''));
  progress('');
  row(['measurement', 'weft', 'flanneld', 'weft/flanneld']);
  for (const [label, table] of [['lease to routes', report.leaseToRoutesMs], ['join', report.joinMs]] as const) {
    for (const [size, byName] of Object.entries(table)) {
      const w = byName.weft;
      const f = byName.flanneld;
      row([`${label}, ${size}, p50 (p95) ms`, w ? `${w.p50.toFixed(0)} (${w.p95.toFixed(0)})` : '-', f ? `${f.p50.toFixed(0)} (${f.p95.toFixed(0)})` : '-', w && f ? ratio(w.p50, f.p50) : '-']);
    }
  }
  for (const [size, byName] of Object.entries(report.cpuPerLeaseEventMs)) {
    const w = byName.weft;
    const f = byName.flanneld;
    row([`CPU per lease event, ${size}, ms`, w ?? '-', f ?? '-', w !== undefined && f ? ratio(w, f) : '-']);
  }
  for (const [streams, byName] of Object.entries(report.throughputGbps)) {
    const w = byName.weft;
    const f = byName.flanneld;
    row([`pod to pod TCP, ${streams}, Gbit/s (median)`, w ? median(w) : '-', f ? median(f) : '-', w && f ? ratio(median(w), median(f)) : '-']);
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(process.env.WEFT_BIN_DIR!, 'weftd'))) {
    progress(`${process.env.WEFT_BIN_DIR}/weftd missing: building`);
    await runChecked(process.execPath, [join(ROOT, 'build/build.ts')]);
  }
  const chosen = overlays();
  if (chosen.some((o) => o.name === 'flanneld') && !existsSync(flanneldPath())) throw new Error(`cannot run flanneld: no binary at "${flanneldPath()}" (node scripts/install-flanneld.ts builds it)`);
  const scope = new NetnsScope();
  let lab: LabSettings | undefined;
  let underlay: Underlay | undefined;
  let relay: EtcdRelay | undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void scope.cleanup().finally(() => process.exit(130)));
  const report: Report = { leaseToRoutesMs: {}, cpuPerLeaseEventMs: {}, joinMs: {}, throughputGbps: {}, ratios: {} };
  try {
    lab = testLabSettings(scope);
    underlay = await createUnderlay(lab, { net: NET });
    await startEtcd(underlay);
    relay = await EtcdRelay.start(underlay);
    for (const overlay of chosen) await relay.put(`${overlay.prefix}/config`, JSON.stringify(NETWORK));

    let trial = 0;
    for (const size of SIZES) {
      for (const overlay of chosen) await growTo(overlay, underlay, size);
      const cpuBefore = new Map(chosen.map((o) => [o.name, overlayCpuMs(o)]));
      const leases = await alternate(chosen, TRIALS, (overlay) => leaseToRoutes(overlay, relay!, trial++));
      report.cpuPerLeaseEventMs[`${size} nodes`] = Object.fromEntries(chosen.map((o) => [o.name, Math.round((overlayCpuMs(o) - cpuBefore.get(o.name)!) / (TRIALS * 2))]));
      report.leaseToRoutesMs[`${size} nodes`] = Object.fromEntries(Object.entries(leases).map(([name, s]) => [name, summarize(s)]));
      progress(`${size} nodes, lease to routes: ${Object.entries(leases).map(([name, s]) => `${name} p50 ${summarize(s).p50.toFixed(0)} ms`).join(', ')}`);
      const joins = await alternate(chosen, JOINS, (overlay) => joinNode(overlay, underlay!, relay!));
      report.joinMs[`${size} nodes`] = Object.fromEntries(Object.entries(joins).map(([name, s]) => [name, summarize(s)]));
      progress(`${size} nodes, join: ${Object.entries(joins).map(([name, s]) => `${name} p50 ${summarize(s).p50.toFixed(0)} ms`).join(', ')}`);
    }

    const pods = new Map<string, { a: Pod; b: Pod }>();
    for (const overlay of chosen) pods.set(overlay.name, { a: await addPod(overlay.nodes[0]!.node, `${overlay.name[0]}pa`), b: await addPod(overlay.nodes[1]!.node, `${overlay.name[0]}pb`) });
    for (const streams of [1, 4]) {
      const samples = await alternate(chosen, ROUNDS, (overlay) => iperf(pods.get(overlay.name)!.a.ns, pods.get(overlay.name)!.b.ns, pods.get(overlay.name)!.b.ip, streams));
      report.throughputGbps[`${streams} stream${streams > 1 ? 's' : ''}`] = { ...samples, plainVeth: [await plainVethThroughput(scope, streams)] };
    }
  } finally {
    for (const overlay of chosen) for (const bench of overlay.nodes) await bench.daemon.stop('SIGKILL').then(() => bench.monitor.stop());
    await relay?.stop();
    if (underlay) await stopEtcd(underlay);
    await scope.cleanup();
    if (lab) rmSync(lab.workDir, { recursive: true, force: true });
  }

  for (const [label, table] of [['leaseToRoutes', report.leaseToRoutesMs], ['join', report.joinMs]] as const) {
    for (const [size, byName] of Object.entries(table)) if (byName.weft && byName.flanneld) report.ratios[`${label}.${size.replace(' nodes', '')}.p50`] = ratio(byName.weft.p50, byName.flanneld.p50);
  }
  for (const [streams, byName] of Object.entries(report.throughputGbps)) if (byName.weft && byName.flanneld) report.ratios[`throughput.${streams.replace(' ', '')}`] = ratio(median(byName.weft), median(byName.flanneld));
  printTable(report);
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `overlay-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const record = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    flanneld: FLANNEL_VERSION,
    runs: { trials: TRIALS, joins: JOINS, sizes: SIZES, iperfSeconds: Number(IPERF_SECONDS), rounds: ROUNDS },
    ...report,
    notes: 'timed from outside: ip -tshort monitor route in every node; lease to routes from the etcd put (through a socat relay, no process start) to the route on the last node; CPU per lease event: user + system time of every daemon of an overlay (with every process below it) over the lease-to-routes trials, per lease added or deleted, all nodes together; join from the daemon process start until its route is on every other node and it routes to all of them; throughput through weft-vxlan pods (same delegate bridge for both daemons), MTU 1450 in the overlay vs 1500 on the plain veth',
  };
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  progress(`\nwrote ${relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
