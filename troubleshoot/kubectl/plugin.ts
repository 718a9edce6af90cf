import { booleanFlag, parseFlags, stringFlag, UsageError, type ParsedArgs } from '../cli/args.ts';
import type { CheckResult } from '../doctor/check.ts';
import { requireCredentials } from '../kube/credentials.ts';
import { resolveTarget, type Lookup, type Resolved } from '../kube/resolve-target.ts';
import { parseTarget } from '../model/target.ts';
import type { Explanation } from '../model/explanation.ts';
import { renderExplanation } from '../path/render-explanation.ts';
import { renderProbe } from '../probe/render-probe.ts';
import type { ProbeReport } from '../probe/run-probe.ts';
import { NODE_POD_CONTAINER, NODE_POD_SELECTOR, nodeOfPodIp, nodePods, parseNodes, WEFT_IN_POD, WEFT_NAMESPACE, type ClusterNode } from './cluster-view.ts';
import { clusterExitCode, renderDoctorTable, type NodeReport } from './doctor-table.ts';
import { followPath } from './follow.ts';
import { firstLine, Kubectl } from './kubectl.ts';

// kubectl-weft (`kubectl weft ...`): `explain SRC DST` resolves the names with the caller's kubectl,
// runs `weft explain` in the weft-node Pod on the node the packet starts on, and follows it to the
// next node when it leaves through the overlay; `doctor` runs `weft doctor` in every weft-node Pod
// and prints one table. Exit codes as the node commands: 0 fine, 1 a path drops / warnings, 2 errors.

const PLUGIN_USAGE = `usage: kubectl weft explain SRC DST[:PORT][/tcp|udp] [--json] [--probe] [--node NODE] [--size BYTES]
       kubectl weft doctor [--json]
  common flags: --kubeconfig FILE, --context NAME
  SRC, DST: pod/NAMESPACE/NAME, svc/NAMESPACE/NAME[:PORT], node/NAME or an IPv4 address.
  explain runs on the node SRC is on (--node for an address kubectl cannot place), in its weft-node Pod.
`;

const COMMON = { kubeconfig: 'string', context: 'string', help: 'boolean' } as const;
const EXPLAIN_FLAGS = { ...COMMON, from: 'string', to: 'string', json: 'boolean', probe: 'boolean', node: 'string', size: 'string' } as const;
const DOCTOR_FLAGS = { ...COMMON, json: 'boolean' } as const;

function kubectlFor(args: ParsedArgs): Kubectl {
  const kubeconfig = stringFlag(args, 'kubeconfig');
  requireCredentials(kubeconfig);
  const context = stringFlag(args, 'context');
  return new Kubectl({ ...(kubeconfig ? { kubeconfig } : {}), ...(context ? { context } : {}) });
}

function kubectlLookup(kubectl: Kubectl): Lookup {
  return (kind, namespace, name) => kubectl.getJson([kind, ...(namespace ? ['-n', namespace] : []), name]);
}

async function clusterNodes(kubectl: Kubectl): Promise<{ nodes: ClusterNode[]; pods: Map<string, string> }> {
  const [nodes, pods] = await Promise.all([kubectl.getJson(['nodes']), kubectl.getJson(['pods', '-n', WEFT_NAMESPACE, '-l', NODE_POD_SELECTOR])]);
  return { nodes: parseNodes(nodes), pods: nodePods(pods) };
}

/** The node a path starts on: --node, the Pod's or Node's own, or the Pod or Node holding the address. */
async function startNode(kubectl: Kubectl, src: Resolved, given: string | undefined, nodes: readonly ClusterNode[]): Promise<string> {
  if (given) return given;
  if (src.node) return src.node;
  const byAddress = nodes.find((n) => n.internalIp === src.ip)?.name ?? nodeOfPodIp(await kubectl.getJson(['pods', '-A']), src.ip);
  if (!byAddress) throw new UsageError(`cannot tell which node ${src.ip} starts on: no Pod or Node has that address (give --node NAME)`);
  return byAddress;
}

async function runExplain(args: ParsedArgs): Promise<number> {
  const [first, second] = args.positionals;
  const fromText = stringFlag(args, 'from') ?? first;
  const toText = stringFlag(args, 'to') ?? second;
  if (!fromText || !toText || (first !== undefined && stringFlag(args, 'from') !== undefined)) throw new UsageError('give SRC and DST, as two arguments or as --from and --to');
  const from = parseTarget(fromText, 'from');
  const to = parseTarget(toText, 'to');
  const kubectl = kubectlFor(args);
  const [src, dst] = [await resolveTarget(from, kubectlLookup(kubectl)), await resolveTarget(to, kubectlLookup(kubectl))];
  const { nodes, pods } = await clusterNodes(kubectl);
  const node = await startNode(kubectl, src, stringFlag(args, 'node'), nodes);
  if (!nodes.some((n) => n.name === node)) throw new UsageError(`cannot explain on node "${node}": no such Node`);
  const extra = [...(stringFlag(args, 'size') ? ['--size', stringFlag(args, 'size') as string] : [])];
  const probes = new Map<string, ProbeReport>();
  const answers = await followPath(
    { node, argv: ['--from', src.ip, '--to', `${dst.ip}${dst.port !== undefined ? `:${dst.port}` : ''}/${dst.proto ?? 'tcp'}`, ...extra, ...(booleanFlag(args, 'probe') ? ['--probe'] : [])] },
    {
      nodeByAddress: (ip) => nodes.find((n) => n.internalIp === ip)?.name,
      explainOn: async (on, argv) => {
        const pod = pods.get(on);
        if (!pod) throw new UsageError(`cannot explain on node "${on}": it runs no weft-node Pod (namespace ${WEFT_NAMESPACE}, label ${NODE_POD_SELECTOR})`);
        const result = await kubectl.exec(WEFT_NAMESPACE, pod, NODE_POD_CONTAINER, [WEFT_IN_POD, 'explain', ...argv, '--json']);
        if (result.code !== 0 && result.code !== 1) throw new Error(`${on}: ${firstLine(result.stderr) || `kubectl exec exit ${result.code}`}`);
        const answer = JSON.parse(result.stdout) as Explanation & { probe?: ProbeReport };
        if (answer.probe) probes.set(on, answer.probe);
        return answer;
      },
    },
  );
  if (booleanFlag(args, 'json')) process.stdout.write(`${JSON.stringify({ from: src.label, to: dst.label, nodes: answers }, null, 2)}\n`);
  else {
    process.stdout.write(`kubectl weft explain: ${src.label} -> ${dst.label}\n`);
    for (const { node: on, explanation } of answers) {
      process.stdout.write(`\n== node ${on} (weft-node Pod ${pods.get(on)}) ==\n${renderExplanation(explanation)}`);
      const probe = probes.get(on);
      if (probe) process.stdout.write(renderProbe(probe));
    }
  }
  return answers.every((a) => a.explanation.verdict.kind === 'delivered') ? 0 : 1;
}

async function doctorOn(kubectl: Kubectl, node: string, pod: string | undefined): Promise<NodeReport> {
  if (!pod) return { node, error: `no Running weft-node Pod on this node (namespace ${WEFT_NAMESPACE}, label ${NODE_POD_SELECTOR})` };
  const result = await kubectl.exec(WEFT_NAMESPACE, pod, NODE_POD_CONTAINER, [WEFT_IN_POD, 'doctor', '--json']);
  try {
    return { node, checks: (JSON.parse(result.stdout) as { checks: CheckResult[] }).checks };
  } catch {
    return { node, error: `weft doctor in ${pod} failed: ${firstLine(result.stderr) || `exit ${result.code}`}` };
  }
}

async function runDoctor(args: ParsedArgs): Promise<number> {
  const kubectl = kubectlFor(args);
  const { nodes, pods } = await clusterNodes(kubectl);
  if (nodes.length === 0) throw new UsageError('cannot check the cluster: it has no Nodes');
  const reports = await Promise.all(nodes.map((n) => doctorOn(kubectl, n.name, pods.get(n.name))));
  if (booleanFlag(args, 'json')) process.stdout.write(`${JSON.stringify({ nodes: reports, exit: clusterExitCode(reports) }, null, 2)}\n`);
  else process.stdout.write(renderDoctorTable(reports));
  return clusterExitCode(reports);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === 'help') {
      process.stdout.write(PLUGIN_USAGE);
      return command === undefined ? 2 : 0;
    }
    if (command === 'explain') {
      const args = parseFlags(rest, EXPLAIN_FLAGS, { positionals: 2 });
      if (booleanFlag(args, 'help')) return (process.stdout.write(PLUGIN_USAGE), 0);
      return await runExplain(args);
    }
    if (command === 'doctor') {
      const args = parseFlags(rest, DOCTOR_FLAGS);
      if (booleanFlag(args, 'help')) return (process.stdout.write(PLUGIN_USAGE), 0);
      return await runDoctor(args);
    }
    throw new UsageError(`unknown command "${command}" (explain or doctor)`);
  } catch (error) {
    process.stderr.write(`kubectl weft: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
}
