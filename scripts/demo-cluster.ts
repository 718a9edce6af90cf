import { run } from '../lib/exec.ts';
import { flag, parseFlags } from '../lib/flags.ts';
import { clusterDown, clusterUp, installWeft, proxyModeOf, type LabCluster, type ProxyMode } from '../lab/kube/cluster.ts';
import { readLabState, labDir } from '../lab/kube/lab-state.ts';
import { DEFAULT_LAB_ID } from '../lab/kube/topology.ts';
import { commandOutput, heading } from './demo/report.ts';

// npm run demo: weft as users run it. A real Kubernetes cluster on this machine (kubelets and containerd
// in node namespaces, no Docker), weft installed with `kubectl apply -k deploy/`, an agnhost Deployment
// spread over the workers behind a Service; then a Pod calls the Service by its DNS name and reaches Pods
// on every node (which see the caller's own address), the NodePort answers from the underlay, and the
// rules weft-proxy wrote for the Service are shown. Removes the cluster afterwards unless --keep.

const USAGE = `usage: npm run demo -- [--workers N] [--proxy-mode iptables|nftables] [--keep]
  --workers N     worker nodes besides the control plane (1..8, default 2)
  --proxy-mode M  weft-proxy's mode (default: deploy/'s, nftables)
  --keep          leave the cluster up (npm run cluster:down removes it)
`;
const NS = 'demo';
const REPLICAS = 4;

const started = performance.now();
const out = (text: string): void => void process.stdout.write(text);
const progress = (line: string): void => out(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);

const DEMO_OBJECTS = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'echo', namespace: NS },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: { app: 'echo' } },
      template: {
        metadata: { labels: { app: 'echo' } },
        spec: {
          // One per worker before any doubles up: the demo is about crossing nodes. Honor: the tainted
          // control-plane node is no domain to balance against.
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { app: 'echo' } } }],
          containers: [{ name: 'echo', image: 'registry.k8s.io/e2e-test-images/agnhost:2.56', imagePullPolicy: 'IfNotPresent', args: ['netexec', '--http-port=8080'], ports: [{ containerPort: 8080 }] }],
        },
      },
    },
  },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: NS }, spec: { type: 'NodePort', selector: { app: 'echo' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'client', namespace: NS },
    spec: { containers: [{ name: 'client', image: 'registry.k8s.io/e2e-test-images/agnhost:2.56', imagePullPolicy: 'IfNotPresent', args: ['pause'] }] },
  },
];

async function show(cluster: LabCluster, args: string[]): Promise<string> {
  const output = await cluster.kubectl(args);
  out(commandOutput(`kubectl ${args.join(' ')}`, output));
  return output;
}

async function demo(cluster: LabCluster, proxyMode: ProxyMode | undefined): Promise<boolean> {
  const stateDir = labDir(cluster.id);
  const state = readLabState(stateDir);
  if (!state) throw new Error(`cannot run the demo: lab "${cluster.id}" has no state`);
  out(heading('The cluster before weft: no CNI, so every node is NotReady'));
  await show(cluster, ['get', 'nodes', '-o', 'wide']);
  out(heading('Installing weft as a user does: kubectl apply -k deploy/'));
  await installWeft(cluster, state, { proxyMode, say: progress });
  await show(cluster, ['-n', 'weft-system', 'get', 'daemonsets,pods', '-o', 'wide']);

  out(heading(`An agnhost Deployment (${REPLICAS} replicas) behind Service demo/echo (ClusterIP and NodePort)`));
  await cluster.kubectl(['apply', '-f', '-'], DEMO_OBJECTS.map((o) => JSON.stringify(o)).join('\n'));
  await cluster.kubectl(['-n', NS, 'rollout', 'status', 'deployment/echo', '--timeout=180s']);
  await cluster.kubectl(['-n', NS, 'wait', '--for=condition=Ready', 'pod/client', '--timeout=180s']);
  await show(cluster, ['get', 'nodes,pods', '-n', NS, '-o', 'wide']);
  const pods = JSON.parse(await cluster.kubectl(['-n', NS, 'get', 'pods', '-l', 'app=echo', '-o', 'json'])) as { items: { metadata: { name: string }; spec: { nodeName: string }; status: { podIP: string } }[] };
  const nodeOf = new Map(pods.items.map((p) => [p.metadata.name, p.spec.nodeName]));
  const client = JSON.parse(await cluster.kubectl(['-n', NS, 'get', 'pod', 'client', '-o', 'json'])) as { spec: { nodeName: string }; status: { podIP: string } };

  out(heading(`Pod "client" (${client.status.podIP} on ${client.spec.nodeName}) calls the Service by its DNS name`));
  const script = 'for i in $(seq 1 12); do curl -s http://echo.demo.svc.cluster.local/hostname; echo " $(curl -s http://echo/clientip)"; done';
  const calls = await cluster.kubectl(['-n', NS, 'exec', 'client', '--', 'sh', '-c', script]);
  out(commandOutput(`kubectl -n demo exec client -- sh -c '${script}'`, calls));
  const answers = calls.split('\n').filter(Boolean).map((l) => l.split(' '));
  const answeringNodes = new Set(answers.map(([pod]) => nodeOf.get(pod ?? '')).filter(Boolean));
  const seenAs = new Set(answers.map(([, ip]) => ip?.split(':')[0]));
  out(`  answered from ${answeringNodes.size} node(s): ${[...answeringNodes].join(', ')}; the servers saw ${[...seenAs].join(', ')} (the client Pod's own address: ${client.status.podIP})\n`);

  const svc = JSON.parse(await cluster.kubectl(['-n', NS, 'get', 'service', 'echo', '-o', 'json'])) as { spec: { clusterIP: string; ports: { nodePort: number }[] } };
  const nodePort = svc.spec.ports[0]?.nodePort as number;
  out(heading(`NodePort ${nodePort} from the underlay (the lab's "network", namespace ${cluster.topology.underlayNetns})`));
  let nodePortOk = true;
  for (const node of cluster.topology.nodes) {
    const result = await run('ip', ['netns', 'exec', cluster.topology.underlayNetns, 'curl', '-s', '--max-time', '3', `http://${node.ip}:${nodePort}/hostname`]);
    nodePortOk &&= result.code === 0;
    out(commandOutput(`curl http://${node.ip}:${nodePort}/hostname   # ${node.name}`, result.code === 0 ? result.stdout : `failed (curl exit ${result.code})`));
  }

  const worker = cluster.topology.nodes.find((n) => n.name === client.spec.nodeName) ?? cluster.topology.nodes[1];
  if (worker) {
    const mode = proxyMode ?? (await proxyModeOf(cluster));
    out(heading(`What weft-proxy (--proxy-mode ${mode}) programmed for demo/echo on ${worker.name}`));
    const dump = mode === 'nftables' ? await run('ip', ['netns', 'exec', worker.netns, 'nft', 'list', 'table', 'ip', 'weft']) : await run('ip', ['netns', 'exec', worker.netns, 'iptables-save', '-t', 'nat']);
    const lines = dump.stdout.split('\n').filter((l) => l.includes('demo/echo') || l.includes(svc.spec.clusterIP) || l.includes(String(nodePort)));
    out(commandOutput(mode === 'nftables' ? `nft list table ip weft | grep -e demo/echo -e ${svc.spec.clusterIP}` : `iptables-save -t nat | grep -e demo/echo -e ${svc.spec.clusterIP}`, lines.slice(0, 30).join('\n')));
  }
  return answeringNodes.size >= 2 && seenAs.size === 1 && seenAs.has(client.status.podIP) && nodePortOk;
}

const FLAGS = {
  workers: flag.integer({ min: 1, max: 8 }, { fallback: 2 }),
  'proxy-mode': flag.oneOf<ProxyMode | ''>(['iptables', 'nftables'], { fallback: '' }),
  keep: flag.boolean(),
  help: flag.boolean(),
};

async function main(): Promise<number> {
  const { values } = parseFlags(process.argv.slice(2), FLAGS);
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const mode = values['proxy-mode'] || undefined;
  if (readLabState(labDir(DEFAULT_LAB_ID))) throw new Error(`cannot run the demo: lab "${DEFAULT_LAB_ID}" is already up: npm run cluster:down first`);

  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    out('\nSIGINT: tearing down\n');
  });
  const cluster = await clusterUp({ workers: values.workers as number, progress });
  let ok = false;
  try {
    ok = await demo(cluster, mode);
    out('\n');
    if (values.keep && !interrupted) {
      out(heading('The cluster stays up'));
      out(`  kubectl --context ${cluster.context} get pods -A -o wide\n  npm run cluster:status\n  npm run cluster:down\n`);
      return ok ? 0 : 1;
    }
  } catch (error) {
    progress(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const failures = await clusterDown({ id: cluster.id, progress });
  progress(failures.length === 0 ? 'nothing left behind' : `left behind: ${failures.join('; ')}`);
  return ok && failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
