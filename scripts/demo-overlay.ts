import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ETCD_PREFIX, startCluster, stopCluster, type Cluster } from '../lab/cluster.ts';
import { weftCommand } from '../lab/commands.ts';
import { serveClientAddress } from '../lab/http-peer.ts';
import { deleteNetns, listNamespaces, NetnsScope } from '../lab/netns.ts';
import type { Pod } from '../lab/pod.ts';
import { etcdctl, type LabSettings } from '../lab/underlay.ts';
import { waitFor } from '../lab/wait.ts';
import { DEMO_USAGE, parseDemoArgs } from './demo/args.ts';
import { commandOutput, heading, parseLeaseListing, table } from './demo/report.ts';

// npm run demo:overlay: a cluster made of network namespaces (no Docker, no Kubernetes): an underlay with a
// bridge and a real etcd, N nodes running weftd from dist/bin, M pods per node attached through
// weft-vxlan as containerd would attach them. Shows leases, pod IPs, one node's fabric, a cross-node
// ping and HTTP request, then removes everything (also on Ctrl-C and on failure).

const BIN = resolve(import.meta.dirname, '../dist/bin');
const UNDERLAY_NET = '172.30.90';
const NETWORK = { Network: '10.244.0.0/16', SubnetLen: 24, Backend: { Type: 'vxlan', VNI: 1 } };
const HTTP_PORT = 8080;

const started = performance.now();
const out = (text: string): void => void process.stdout.write(text);
const progress = (line: string): void => out(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);

async function showLeases(cluster: Cluster): Promise<void> {
  const listing = await etcdctl(cluster.underlay, ['get', '--prefix', `${ETCD_PREFIX}/subnets/`, '-w', 'json']);
  if (listing.code !== 0) throw new Error(`cannot list leases: ${listing.stderr.trim()}`);
  const nodeByIp = new Map(cluster.nodes.map((n) => [n.ip, n.ns.name]));
  const rows = parseLeaseListing(listing.stdout, ETCD_PREFIX).map((l) => [l.subnet, nodeByIp.get(l.publicIp) ?? '(unknown)', l.publicIp, l.vtepMac]);
  out(heading(`Subnet leases in etcd (${ETCD_PREFIX}/subnets/)`));
  out(table([['SUBNET', 'NODE', 'PUBLIC IP', 'VTEP MAC'], ...rows]));
}

function showPods(cluster: Cluster): void {
  out(heading('Pods (CNI ADD through weft-vxlan -> weft-bridge + weft-host-local)'));
  out(table([['POD', 'NODE', 'NETNS', 'IP'], ...cluster.pods.map((p) => [p.name, p.node.ns.name, p.ns.name, p.ip])]));
}

async function showFabric(cluster: Cluster): Promise<void> {
  const node = cluster.nodes[0]!;
  out(heading(`Node ${node.index} (${node.ns.name}): VXLAN device and routes`));
  const commands: [string, string[]][] = [
    ['ip', ['-d', 'link', 'show', 'dev', 'weft.1']],
    ['ip', ['-br', 'addr', 'show', 'dev', 'weft.1']],
    ['ip', ['route']],
    ['ip', ['neigh', 'show', 'dev', 'weft.1']],
    ['bridge', ['fdb', 'show', 'dev', 'weft.1']],
  ];
  for (const [file, args] of commands) out(commandOutput(`ip netns exec ${node.ns.name} ${file} ${args.join(' ')}`, await node.ns.exec(file, args)));
}

async function showPing(client: Pod, server: Pod): Promise<boolean> {
  out(heading(`Cross-node ping: ${client.name} (${client.ip}) -> ${server.name} (${server.ip})`));
  const result = await client.ns.try('ping', ['-c', '3', '-W', '2', server.ip]);
  out(commandOutput(`ip netns exec ${client.ns.name} ping -c 3 ${server.ip}`, result.stdout.trim().split('\n').slice(-2).join('\n')));
  return result.code === 0;
}

async function showHttp(client: Pod, server: Pod, workDir: string): Promise<boolean> {
  out(heading(`Cross-node HTTP: ${client.name} -> busybox httpd in ${server.name}`));
  await serveClientAddress(server.ns, { port: HTTP_PORT, workDir });
  const url = `http://${server.ip}:${HTTP_PORT}/cgi-bin/peer`;
  const seen = await waitFor(`HTTP from ${client.name} to ${server.name}`, async () => {
    const r = await client.ns.try('curl', ['-s', '--max-time', '2', url]);
    return r.code === 0 ? r.stdout.trim() : undefined;
  });
  out(commandOutput(`ip netns exec ${client.ns.name} curl -s ${url}`, seen));
  const kept = seen === client.ip;
  out(kept ? `  the server saw ${seen}, the client pod's own address: no NAT between pods\n` : `  UNEXPECTED: the server saw ${seen}, not the client pod's ${client.ip}\n`);
  return kept;
}

function showInspect(cluster: Cluster, prefix: string): void {
  const [client, server] = [cluster.pods[0]!, cluster.pods.find((p) => p.node !== cluster.pods[0]!.node)!];
  const node = cluster.nodes[0]!;
  out(heading('The cluster stays up until Ctrl-C; inspect it with'));
  out(`  ip netns list | grep ${prefix}\n`);
  out(`  ip netns exec ${node.ns.name} ip route\n`);
  out(`  ip netns exec ${node.ns.name} ip -d link show weft.1\n`);
  out(`  ip netns exec ${node.ns.name} cat ${node.subnetFile}\n`);
  out(`  ip netns exec ${client.ns.name} ping -c 3 ${server.ip}\n`);
  out(`  ip netns exec ${cluster.underlay.ns.name} etcdctl --endpoints=${cluster.underlay.etcdUrl} get --prefix ${ETCD_PREFIX}/\n`);
  out(`  tail -f ${node.dir}/weftd.log\n`);
}

async function main(argv: readonly string[]): Promise<number> {
  const args = parseDemoArgs(argv);
  if (args.help) {
    out(DEMO_USAGE);
    return 0;
  }
  if (process.getuid?.() !== 0) throw new Error('cannot run the demo: it creates network namespaces, which needs root');
  if (!existsSync(join(BIN, 'weftd'))) throw new Error(`cannot run the demo: "${join(BIN, 'weftd')}" is missing (npm run build)`);

  const id = randomBytes(3).toString('hex');
  const prefix = `wd-${id}-`;
  const scope = new NetnsScope(prefix);
  const workDir = mkdtempSync(join(tmpdir(), 'weft-demo-'));
  const settings: LabSettings = { id: `demo-${id}`, scope, workDir, weftd: weftCommand('weftd', BIN), cniBinDir: BIN };
  let cluster: Cluster | undefined;

  let tornDown: Promise<void> | undefined;
  const teardown = (): Promise<void> =>
    (tornDown ??= (async () => {
      progress('tearing down: CNI DEL for every pod, stop weftd and etcd, delete the namespaces');
      for (const failure of cluster ? await stopCluster(cluster) : []) progress(`warning: ${failure}`);
      await scope.cleanup();
      // A step still running when Ctrl-C came may have made a namespace after the scope's cleanup.
      await new Promise((r) => setTimeout(r, 200));
      for (const name of await listNamespaces(prefix)) await deleteNetns(name);
      rmSync(workDir, { recursive: true, force: true });
      const left = await listNamespaces(prefix);
      progress(left.length === 0 && !existsSync(workDir) ? `nothing left behind: no ${prefix}* namespace, ${workDir} removed` : `warning: left behind: ${left.join(' ')}`);
    })());
  let keeping = false;
  let interrupted = false;
  // After Ctrl-C the steps still running only fail: keep their progress and errors out of the output.
  const stepProgress = (line: string): void => {
    if (!interrupted) progress(line);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = true;
    out(`\n${signal}\n`);
    void teardown().finally(() => process.exit(keeping ? 0 : 130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    progress(`bringing up ${args.nodes} nodes x ${args.podsPerNode} pods (namespaces ${prefix}*, state in ${workDir})`);
    cluster = await startCluster(settings, { nodes: args.nodes, podsPerNode: args.podsPerNode, net: UNDERLAY_NET, network: NETWORK, weftdArgs: ['--ip-masq'], onProgress: stepProgress });
    progress('cluster ready');
    await showLeases(cluster);
    showPods(cluster);
    await showFabric(cluster);
    const client = cluster.pods[0]!;
    const server = cluster.pods.find((p) => p.node !== client.node)!;
    const pinged = await showPing(client, server);
    const served = await showHttp(client, server, workDir);
    out('\n');
    if (args.keep) {
      keeping = true;
      showInspect(cluster, prefix);
      // The signal handler tears down and exits; the timer keeps Node waiting until then.
      setInterval(() => {}, 1 << 30);
      return await new Promise<number>(() => {});
    }
    return pinged && served ? 0 : 1;
  } catch (error) {
    stepProgress(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    if (!keeping) await teardown();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
