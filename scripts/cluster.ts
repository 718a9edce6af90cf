import { parseArgs } from 'node:util';
import { attachCluster, clusterDown, clusterStatus, clusterUp, type ProxyMode } from '../lab/kube/cluster.ts';
import { DEFAULT_LAB_ID } from '../lab/kube/topology.ts';

// npm run cluster:up | cluster:down | cluster:status: a real Kubernetes cluster on this machine, each node
// a set of namespaces with its own kubelet and containerd (see lab/kube/cluster.ts).
//
//   npm run cluster:up -- [--workers N] [--install] [--proxy-mode iptables|nftables] [--id ID] [--retain]
//   npm run cluster:down -- [--id ID]
//   npm run cluster:status -- [--id ID]

const USAGE = 'usage: node scripts/cluster.ts up [--workers N] [--install] [--proxy-mode iptables|nftables] [--id ID] [--retain] | down [--id ID] | status [--id ID]';

async function main(): Promise<number> {
  const [verb, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      id: { type: 'string', default: DEFAULT_LAB_ID },
      workers: { type: 'string', default: '2' },
      install: { type: 'boolean', default: false },
      'proxy-mode': { type: 'string' },
      retain: { type: 'boolean', default: false },
    },
  });
  if (verb === 'up') {
    if (!/^\d+$/.test(values.workers)) throw new Error(`cannot bring the lab up: --workers "${values.workers}" is not a whole number`);
    const mode = values['proxy-mode'];
    if (mode !== undefined && mode !== 'iptables' && mode !== 'nftables') throw new Error(`cannot bring the lab up: --proxy-mode "${mode}" is not iptables or nftables`);
    if (mode !== undefined && !values.install) throw new Error('cannot bring the lab up: --proxy-mode needs --install');
    const cluster = await clusterUp({ id: values.id, workers: Number(values.workers), install: values.install, proxyMode: mode as ProxyMode | undefined, retainOnFailure: values.retain });
    process.stdout.write(`kubeconfig: ${cluster.kubeconfig}\n`);
    if (!values.install) process.stdout.write('next: kubectl apply -k deploy/   (nodes become Ready once weft runs)\n');
    return 0;
  }
  if (verb === 'down') return (await clusterDown({ id: values.id })).length === 0 ? 0 : 1;
  if (verb === 'status') {
    const status = clusterStatus(values.id);
    if (!status) {
      process.stdout.write(`lab "${values.id}" is not up\n`);
      return 1;
    }
    process.stdout.write(`lab "${status.id}": state in ${status.stateDir}\nkubeconfig: ${status.kubeconfig ?? '(not written yet)'}${status.context ? `  (context "${status.context}" in your kubeconfig)` : ''}\n`);
    for (const p of status.processes) process.stdout.write(`  ${p.running ? 'running' : 'EXITED '}  ${p.name.padEnd(36)} ${p.log}\n`);
    if (status.kubeconfig) process.stdout.write(await attachCluster(values.id).kubectl(['get', 'nodes', '-o', 'wide']).catch((e: Error) => `kubectl: ${e.message}\n`));
    return status.processes.every((p) => p.running) ? 0 : 1;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`cluster: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
