import { flag, parseFlags } from '../lib/flags.ts';
import { attachCluster, clusterDown, clusterStatus, clusterUp, type ProxyMode } from '../lab/kube/cluster.ts';
import { DEFAULT_LAB_ID, MAX_WORKERS } from '../lab/kube/topology.ts';

// npm run cluster:up | cluster:down | cluster:status: a real Kubernetes cluster on this machine, each node
// a set of namespaces with its own kubelet and containerd (see lab/kube/cluster.ts).
//
//   npm run cluster:up -- [--workers N] [--install] [--proxy-mode iptables|nftables] [--id ID] [--retain]
//   npm run cluster:down -- [--id ID]
//   npm run cluster:status -- [--id ID]

const USAGE = 'usage: node scripts/cluster.ts up [--workers N] [--install] [--proxy-mode iptables|nftables] [--id ID] [--retain] | down [--id ID] | status [--id ID]';

const FLAGS = {
  id: flag.string({ expectation: 'a lab id' }, { fallback: DEFAULT_LAB_ID }),
  workers: flag.integer({ min: 0, max: MAX_WORKERS }, { fallback: 2 }),
  install: flag.boolean(),
  'proxy-mode': flag.oneOf<ProxyMode | ''>(['iptables', 'nftables'], { fallback: '' }),
  retain: flag.boolean(),
};

async function main(): Promise<number> {
  const { values, given, positionals } = parseFlags(process.argv.slice(2), FLAGS, { positionals: 1 });
  const verb = positionals[0];
  if (verb === 'up') {
    const mode = values['proxy-mode'] || undefined;
    if (mode !== undefined && !values.install) throw new Error('cannot bring the lab up: --proxy-mode needs --install');
    const cluster = await clusterUp({ id: values.id, workers: values.workers as number, install: values.install, proxyMode: mode, retainOnFailure: values.retain });
    process.stdout.write(`kubeconfig: ${cluster.kubeconfig}\n`);
    if (!values.install) process.stdout.write('next: kubectl apply -k deploy/   (nodes become Ready once weft runs)\n');
    return 0;
  }
  const upOnly = [...given].filter((name) => name !== 'id');
  if (upOnly.length > 0) throw new Error(`cannot run "${verb ?? ''}": --${upOnly[0]} is a flag of "up"`);
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
