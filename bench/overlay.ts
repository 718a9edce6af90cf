import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Netns } from '../lab/netns.ts';
import { createNode, startWeftd, type OverlayNode } from '../lab/node.ts';
import { addPod } from '../lab/pod.ts';
import { createUnderlay, etcdctl, startEtcd, stopEtcd, type LabSettings, type Underlay } from '../lab/underlay.ts';
import { waitFor } from '../lab/wait.ts';
import { testLabSettings } from '../test/netns/overlay-cluster.ts';
import { NetnsScope } from '../test/support/netns.ts';
import { ratio, summarize } from './stats.ts';

// npm run bench:overlay: (1) how long a new node's lease takes to become working routes on every
// other node, with 10 and 50 simulated nodes (namespaces running weftd, no pods); the end time is
// the latest "fabric updated" log line naming the lease, written after the kernel accepted the
// routes. (2) pod-to-pod TCP throughput across the overlay beside a plain veth pair (iperf3).

const PREFIX = '/coreos.com/network';
// Nodes lease below .200; the timed leases use .200 and up, so they never overwrite a node's.
const CONFIG = { Network: '10.244.0.0/16', SubnetMax: '10.244.199.0', Backend: { Type: 'vxlan', VNI: 1 } };

const { values } = parseArgs({ options: { trials: { type: 'string', default: '5' }, sizes: { type: 'string', default: '10,50' }, seconds: { type: 'string', default: '3' } } });
const TRIALS = Number(values.trials);
const SIZES = values.sizes.split(',').map(Number);
const IPERF_SECONDS = values.seconds;

function logFile(node: OverlayNode): string {
  return join(node.dir, 'weftd.log');
}

/** Latest time (ms since epoch) at which every node logged the lease as added, or undefined. */
function programmedAt(nodes: readonly OverlayNode[], subnet: string): number | undefined {
  let latest = 0;
  for (const node of nodes) {
    const path = logFile(node);
    if (!existsSync(path)) return undefined;
    const line = readFileSync(path, 'utf8')
      .split('\n')
      .find((l) => l.includes('"fabric updated"') && l.includes(`"added":["${subnet}"]`));
    if (!line) return undefined;
    latest = Math.max(latest, Date.parse(JSON.parse(line).time));
  }
  return latest;
}

async function leaseToRoutes(underlay: Underlay, nodes: readonly OverlayNode[], trial: number): Promise<number> {
  const subnet = `10.244.${200 + trial}.0/24`;
  const value = JSON.stringify({ PublicIP: `172.30.79.${200 + trial}`, BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: `0e:00:00:00:01:${(trial + 16).toString(16)}` } });
  const start = Date.now();
  const put = await etcdctl(underlay, ['put', `${PREFIX}/subnets/${subnet.replace('/', '-')}`, value]);
  if (put.code !== 0) throw new Error(`cannot put lease: ${put.stderr}`);
  const end = await waitFor(`all ${nodes.length} nodes to program ${subnet}`, async () => programmedAt(nodes, subnet), { timeoutMs: 60_000 });
  await etcdctl(underlay, ['del', `${PREFIX}/subnets/${subnet.replace('/', '-')}`]);
  return end - start;
}

async function startNodes(nodes: readonly OverlayNode[]): Promise<void> {
  for (const node of nodes) startWeftd(node, { logFile: logFile(node) });
  for (const node of nodes) await waitFor(`weftd on node ${node.index}`, async () => existsSync(node.subnetFile), { timeoutMs: 120_000 });
  // Every node has every other node's route before timing starts.
  for (const node of nodes) {
    await waitFor(`routes on node ${node.index}`, async () => (await node.ns.exec('ip', ['route', 'show', 'dev', 'weft.1'])).trim().split('\n').filter(Boolean).length >= nodes.length - 1, { timeoutMs: 120_000 });
  }
}

async function iperf(client: Netns, server: Netns, serverIp: string): Promise<number> {
  await server.exec('iperf3', ['-s', '-D', '-1']);
  await new Promise((r) => setTimeout(r, 300));
  const report = JSON.parse(await client.exec('iperf3', ['-c', serverIp, '-t', IPERF_SECONDS, '-J']));
  return report.end.sum_received.bits_per_second / 1e9;
}

async function plainVethThroughput(scope: NetnsScope): Promise<number> {
  const a = await scope.create('ba');
  const b = await scope.create('bb');
  await a.exec('ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b.path]);
  await a.exec('ip', ['addr', 'add', '192.168.250.1/24', 'dev', 'eth0']);
  await b.exec('ip', ['addr', 'add', '192.168.250.2/24', 'dev', 'eth0']);
  await a.exec('ip', ['link', 'set', 'eth0', 'up']);
  await b.exec('ip', ['link', 'set', 'eth0', 'up']);
  return iperf(a, b, '192.168.250.2');
}

async function main(): Promise<void> {
  const scope = new NetnsScope();
  const nodes: OverlayNode[] = [];
  let underlay: Underlay | undefined;
  let lab: LabSettings | undefined;
  try {
    lab = testLabSettings(scope);
    underlay = await createUnderlay(lab, { net: '172.30.79' });
    await startEtcd(underlay);
    await etcdctl(underlay, ['put', `${PREFIX}/config`, JSON.stringify(CONFIG)]);
    const latency: Record<string, unknown> = {};
    let trial = 0;
    for (const size of SIZES) {
      while (nodes.length < size) nodes.push(await createNode(underlay, nodes.length + 1));
      const started = Date.now();
      await startNodes(nodes.filter((n) => !n.weftd));
      process.stderr.write(`${size} nodes up in ${Date.now() - started} ms\n`);
      const samples: number[] = [];
      for (let i = 0; i < TRIALS; i++) samples.push(await leaseToRoutes(underlay, nodes, trial++));
      latency[`${size} nodes`] = summarize(samples);
    }

    const podA = await addPod(nodes[0]!, 'pa');
    const podB = await addPod(nodes[1]!, 'pb');
    const overlay = await iperf(podA.ns, podB.ns, podB.ip);
    const veth = await plainVethThroughput(scope);
    const report = {
      leaseToRoutesMs: latency,
      throughputGbps: { overlayPodToPod: Math.round(overlay * 100) / 100, plainVeth: Math.round(veth * 100) / 100, overlayOverVeth: ratio(overlay, veth) },
      notes: 'lease-to-routes includes one etcdctl start (~15 ms); throughput is one iperf3 TCP stream, MTU 1450 in the overlay vs 1500 on the veth',
    };
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } finally {
    for (const node of nodes) await node.weftd?.stop('SIGKILL');
    if (underlay) await stopEtcd(underlay);
    await scope.cleanup();
    if (lab) rmSync(lab.workDir, { recursive: true, force: true });
  }
}

await main();
