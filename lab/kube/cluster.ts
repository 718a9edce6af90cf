import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildWeftImage, WEFT_IMAGE_TARBALL } from '../../build/image.ts';
import { run, runChecked } from '../../lib/exec.ts';
import { corednsPath } from '../../scripts/coredns-tools.ts';
import { startApiForwarder } from './api-forwarder.ts';
import { freeLoopbackPort } from './free-port.ts';
import { findK8sBinaries } from './control-plane.ts';
import { isRunning, logTail, stopDaemon, type DaemonRecord } from './daemon-process.ts';
import { ensureLabImages } from './images.ts';
import { issueLabCredentials, issueNodeCredentials } from './lab-pki.ts';
import { startLabControlPlane } from './lab-control-plane.ts';
import { labDir, listLabs, readLabState, writeLabState, type LabState } from './lab-state.ts';
import { importImages, launchKubelet, startContainerd, stopDaemonsOf, writeKubeletFiles } from './node-agents.ts';
import { CONTROL_PLANE_TAINT, KUBELET_SYSCTLS } from './node-config.ts';
import { createNodeMachine, createUnderlay, isEmptyDir, killNodeProcesses, missingMountpoints, removeNodeMachine } from './node-machine.ts';
import { DEFAULT_LAB_ID, planTopology, type LabTopology, type NodePlan } from './topology.ts';
import { currentContext, mergeEntry, readKubeconfig, removeEntry, singleKubeconfig, userKubeconfigPath, writeKubeconfigDoc, type KubeconfigEntry } from './user-kubeconfig.ts';

// A real Kubernetes cluster on one machine, without Docker: `npm run cluster:up` / `cluster:down` /
// `cluster:status`. Each node is a network + mount + UTS namespace with its own kubelet and containerd,
// like a kind node container; the control plane runs on the control-plane node. Every step is recorded in
// the lab's state file first, so cluster:down (or a test's teardown, or a failed up) removes exactly
// what exists and leaves nothing behind.

const ROOT = resolve(import.meta.dirname, '../..');
const DEPLOY_DIR = join(ROOT, 'deploy');
const COREDNS_MANIFEST = join(ROOT, 'lab/manifests/coredns.yaml');
const NODE_READY_TIMEOUT_MS = 240_000;
const REQUIRED_TOOLS: Record<string, string> = {
  ip: 'iproute2', nsenter: 'util-linux', unshare: 'util-linux', containerd: 'containerd', ctr: 'containerd', runc: 'runc',
  socat: 'socat', etcd: 'etcd-server', curl: 'curl', openssl: 'openssl', iptables: 'iptables', gcc: 'gcc',
};

export type ProxyMode = 'iptables' | 'nftables';

export interface UpOptions {
  id?: string;
  workers?: number;
  /** Install weft from deploy/ with kubectl apply -k, then wait for Ready nodes, DaemonSets and DNS. */
  install?: boolean;
  /** weft-proxy's mode (the `proxy-mode` key of ConfigMap weft-config) when installing. */
  proxyMode?: ProxyMode;
  /** Merge the lab's context into the user's kubeconfig (as kind does); default true. */
  mergeKubeconfig?: boolean;
  /** Where `npm run build` put the weft executable (the weft:dev image is built from it). */
  weftBinDir?: string;
  /** Keep what exists when up fails (default: tear it down, as kind does). */
  retainOnFailure?: boolean;
  progress?: (line: string) => void;
}

export interface LabCluster {
  id: string;
  topology: LabTopology;
  /** The admin kubeconfig alone (server https://127.0.0.1:PORT). */
  kubeconfig: string;
  context: string;
  kubectlBin: string;
  kubectl(args: readonly string[], input?: string): Promise<string>;
}

function stepLogger(progress: (line: string) => void): (msg: string) => void {
  const started = Date.now();
  return (msg) => progress(`[cluster ${((Date.now() - started) / 1000).toFixed(1)} s] ${msg}`);
}

async function which(tool: string): Promise<boolean> {
  return (await run('sh', ['-c', `command -v "$1" >/dev/null`, 'sh', tool])).code === 0;
}

/** Names what this machine lacks, with the command that installs it. */
async function preflight(weftBinDir: string, install: boolean): Promise<{ version: string; binDir: string }> {
  for (const [tool, pkg] of Object.entries(REQUIRED_TOOLS)) {
    if (!(await which(tool))) throw new Error(`cannot start the lab: "${tool}" is not installed: run "bash scripts/install-deps.sh" (Debian package ${pkg})`);
  }
  if (!existsSync('/usr/lib/cni/portmap')) throw new Error('cannot start the lab: the reference CNI plugins are not in /usr/lib/cni: run "bash scripts/install-deps.sh" (Debian package containernetworking-plugins)');
  const k8s = findK8sBinaries();
  if ('missing' in k8s) throw new Error(`cannot start the lab: ${k8s.missing}`);
  if (!existsSync(corednsPath())) throw new Error(`cannot start the lab: CoreDNS is not built in ${corednsPath()}: run "node scripts/install-coredns.ts"`);
  if (install && !existsSync(join(weftBinDir, 'weft'))) throw new Error(`cannot install weft: ${join(weftBinDir, 'weft')} is missing: run "npm run build"`);
  return k8s;
}

function readSysctl(key: string): string {
  return readFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, 'utf8').trim();
}

function writeSysctl(key: string, value: string): void {
  writeFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, value);
}

/** Sets the sysctls the kubelet insists on; returns the previous values of those it changed. */
function setKubeletSysctls(): Record<string, string> {
  const previous: Record<string, string> = {};
  for (const [key, value] of Object.entries(KUBELET_SYSCTLS)) {
    const current = readSysctl(key);
    if (current === value) continue;
    previous[key] = current;
    writeSysctl(key, value);
  }
  return previous;
}

/** The weft:dev tarball, rebuilt when the executable is newer. */
async function weftImage(weftBinDir: string, say: (msg: string) => void): Promise<string> {
  const binary = join(weftBinDir, 'weft');
  if (!existsSync(WEFT_IMAGE_TARBALL) || statSync(WEFT_IMAGE_TARBALL).mtimeMs < statSync(binary).mtimeMs) {
    const size = await buildWeftImage({ binDir: weftBinDir });
    say(`built image weft:dev from ${binary} (${(size / 1e6).toFixed(0)} MB)`);
  }
  return WEFT_IMAGE_TARBALL;
}

function kubectlFor(binDir: string, kubeconfig: string): LabCluster['kubectl'] {
  return async (args, input) => (await runChecked(join(binDir, 'kubectl'), [`--kubeconfig=${kubeconfig}`, ...args], { input, timeoutMs: 300_000 })).stdout;
}

interface NodeStatus {
  name: string;
  ready: boolean;
  /** "Ready=False (KubeletNotReady: container runtime network not ready...)" */
  notReady: string[];
}

export async function nodeStatuses(kubectl: LabCluster['kubectl']): Promise<NodeStatus[]> {
  const list = JSON.parse(await kubectl(['get', 'nodes', '-o', 'json'])) as { items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } }[] };
  return list.items.map((node) => {
    const conditions = node.status?.conditions ?? [];
    const bad = conditions.filter((c) => (c.type === 'Ready' ? c.status !== 'True' : c.status === 'True'));
    return { name: node.metadata.name, ready: conditions.some((c) => c.type === 'Ready' && c.status === 'True'), notReady: bad.map((c) => `${c.type}=${c.status} (${c.reason ?? ''}: ${c.message ?? ''})`) };
  });
}

/** Waits until every node is Ready; on timeout names each node that is not, why, and its agents' last log lines. */
export async function waitNodesReady(cluster: LabCluster, state: LabState, timeoutMs = NODE_READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let statuses: NodeStatus[] = [];
  while (Date.now() < deadline) {
    statuses = await nodeStatuses(cluster.kubectl).catch(() => []);
    if (statuses.length === cluster.topology.nodes.length && statuses.every((s) => s.ready)) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const report = cluster.topology.nodes.map((node) => {
    const status = statuses.find((s) => s.name === node.name);
    if (status?.ready) return undefined;
    const agents = state.nodes[node.name] ?? {};
    return [
      `node ${node.name}: ${status ? status.notReady.join('; ') || 'no Ready condition' : 'not registered'}`,
      ...(['kubelet', 'containerd'] as const).map((a) => (agents[a] ? `  last ${a} log lines:\n${logTail(agents[a], 10).replace(/^/gm, '    ')}` : `  ${a}: not started`)),
    ].join('\n');
  }).filter(Boolean);
  throw new Error(`cannot bring the lab up: nodes not Ready after ${timeoutMs / 1000} s:\n${report.join('\n')}`);
}

/** kubectl apply -k deploy/ (exactly what a user runs), weft-proxy's mode, then Ready nodes, DaemonSets and DNS. */
export async function installWeft(cluster: LabCluster, state: LabState, options: { proxyMode?: ProxyMode; say: (msg: string) => void }): Promise<void> {
  await cluster.kubectl(['apply', '-k', DEPLOY_DIR]);
  options.say('weft installed: kubectl apply -k deploy/');
  if (options.proxyMode) await setProxyMode(cluster, options.proxyMode);
  await waitNodesReady(cluster, state);
  options.say(`${cluster.topology.nodes.length} node(s) Ready`);
  await cluster.kubectl(['-n', 'weft-system', 'rollout', 'status', 'daemonset/weft-node', 'daemonset/weft-proxy', '--timeout=240s']);
  await cluster.kubectl(['-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=240s']);
  options.say('weft-node, weft-proxy and CoreDNS rolled out');
}

/** Switches weft-proxy's mode as a user would: the ConfigMap key, then a rolling restart. */
/** The mode weft-proxy runs in: the `proxy-mode` key of ConfigMap weft-config. */
export async function proxyModeOf(cluster: LabCluster): Promise<string> {
  return (await cluster.kubectl(['-n', 'weft-system', 'get', 'configmap', 'weft-config', '-o', 'jsonpath={.data.proxy-mode}'])).trim();
}

export async function setProxyMode(cluster: LabCluster, mode: ProxyMode): Promise<void> {
  await cluster.kubectl(['-n', 'weft-system', 'patch', 'configmap', 'weft-config', '--type=merge', '-p', JSON.stringify({ data: { 'proxy-mode': mode } })]);
  await cluster.kubectl(['-n', 'weft-system', 'rollout', 'restart', 'daemonset/weft-proxy']);
  await cluster.kubectl(['-n', 'weft-system', 'rollout', 'status', 'daemonset/weft-proxy', '--timeout=240s']);
}

function kubeconfigEntry(context: string, server: string, credentialsDir: string): KubeconfigEntry {
  const b64 = (file: string) => readFileSync(join(credentialsDir, file)).toString('base64');
  return { name: context, server, caData: b64('ca.crt'), certData: b64('admin.crt'), keyData: b64('admin.key') };
}

export async function clusterUp(options: UpOptions = {}): Promise<LabCluster> {
  const id = options.id ?? DEFAULT_LAB_ID;
  const say = stepLogger(options.progress ?? ((line) => process.stdout.write(`${line}\n`)));
  const weftBinDir = options.weftBinDir ?? join(ROOT, 'dist/bin');
  const k8s = await preflight(weftBinDir, options.install ?? false);
  const stateDir = labDir(id);
  if (readLabState(stateDir)) throw new Error(`cannot bring the lab up: lab "${id}" is already up (state in ${stateDir}): run "npm run cluster:down -- --id ${id}" first`);
  const topology = planTopology({ id, workers: options.workers ?? 2, stateDir });
  const logDir = join(stateDir, 'logs');
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  const state: LabState = { id, workers: topology.nodes.length - 1, sysctls: {}, createdMountpoints: [], underlay: false, nodes: {}, controlPlane: [] };
  const save = () => writeLabState(stateDir, state);
  save();
  say(`lab "${id}": Kubernetes ${k8s.version}, 1 control-plane node and ${state.workers} worker(s); state and logs in ${stateDir}`);

  try {
    state.createdMountpoints = missingMountpoints();
    for (const dir of state.createdMountpoints) mkdirSync(dir, { recursive: true, mode: 0o755 });
    save();
    state.sysctls = setKubeletSysctls();
    save();
    await createUnderlay(topology);
    state.underlay = true;
    save();
    const anchors = new Map<NodePlan, DaemonRecord>();
    for (const node of topology.nodes) {
      state.nodes[node.name] = {};
      save();
      const anchor = await createNodeMachine(topology, node);
      anchors.set(node, anchor);
      state.nodes[node.name] = { anchor };
      save();
    }
    say(`node machines: ${topology.nodes.map((n) => `${n.name} ${n.ip} (netns ${n.netns})`).join(', ')} on bridge ${topology.underlayNetns}/br0`);

    const tarballs = await ensureLabImages(k8s.version, say);
    if (existsSync(join(weftBinDir, 'weft'))) tarballs.push(await weftImage(weftBinDir, say));
    else say(`no ${join(weftBinDir, 'weft')}: the weft:dev image is not imported (run npm run build, then cluster:up again)`);

    const credentials = await issueLabCredentials(topology);
    say('certificates and kubeconfigs issued');
    await startLabControlPlane({
      topology, credentials, binDir: k8s.binDir, anchor: anchors.get(topology.controlPlane) as DaemonRecord, logDir, log: say,
      started: (record) => {
        state.controlPlane.push(record);
        save();
      },
    });

    const port = await freeLoopbackPort();
    state.forwarder = startApiForwarder(topology, port, logDir);
    state.apiPort = port;
    // Named after the lab, as kind names its contexts after the cluster.
    const context = id;
    const server = `https://127.0.0.1:${port}`;
    const entry = kubeconfigEntry(context, server, credentials.dir);
    state.kubeconfig = join(stateDir, 'kubeconfig');
    writeKubeconfigDoc(state.kubeconfig, singleKubeconfig(entry));
    state.context = context;
    save();
    const cluster: LabCluster = { id, topology, kubeconfig: state.kubeconfig, context, kubectlBin: join(k8s.binDir, 'kubectl'), kubectl: kubectlFor(k8s.binDir, state.kubeconfig) };
    say(`API server forwarded to ${server}`);

    await Promise.all(topology.nodes.map(async (node) => {
      const containerd = await startContainerd(node, anchors.get(node) as DaemonRecord, logDir);
      state.nodes[node.name] = { ...state.nodes[node.name], containerd };
      save();
      await importImages(node, tarballs);
    }));
    say(`containerd running on every node, ${tarballs.length} images imported into each`);
    for (const node of topology.nodes) {
      writeKubeletFiles({ topology, node, caFile: credentials.ca.cert, credentials: await issueNodeCredentials(credentials.pki, node) });
      const kubelet = launchKubelet(node, { anchor: anchors.get(node) as DaemonRecord, binDir: k8s.binDir, logDir });
      state.nodes[node.name] = { ...state.nodes[node.name], kubelet };
      save();
    }
    await waitRegistered(cluster, state);
    await cluster.kubectl(['label', 'node', topology.controlPlane.name, `${CONTROL_PLANE_TAINT.key}=`, '--overwrite']);
    say(`kubelets registered ${topology.nodes.length} Node(s); NotReady until a CNI is installed`);
    await cluster.kubectl(['apply', '-f', COREDNS_MANIFEST]);
    say('CoreDNS deployed (kube-system/coredns, Service kube-dns 10.96.0.10)');

    if (options.mergeKubeconfig ?? true) {
      const file = userKubeconfigPath();
      const doc = readKubeconfig(file);
      state.previousContext = currentContext(doc);
      writeKubeconfigDoc(file, mergeEntry(doc, entry));
      state.mergedInto = file;
      save();
      say(`context "${context}" merged into ${file}`);
    }
    if (options.install) await installWeft(cluster, state, { proxyMode: options.proxyMode, say });
    say(`lab "${id}" is up: kubectl --kubeconfig ${state.kubeconfig} get nodes -o wide${state.mergedInto ? ` (or kubectl --context ${context} ...)` : ''}`);
    return cluster;
  } catch (error) {
    say(`cluster:up failed: ${(error as Error).message}`);
    if (!options.retainOnFailure) {
      say('tearing down what was created (--retain keeps it)');
      const failures = await clusterDown({ id, progress: options.progress });
      if (failures.length > 0) say(`teardown left: ${failures.join('; ')}`);
    }
    throw error;
  }
}

async function waitRegistered(cluster: LabCluster, state: LabState): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const names = (await cluster.kubectl(['get', 'nodes', '-o', 'name']).catch(() => '')).split('\n').filter(Boolean);
    if (names.length === cluster.topology.nodes.length) return;
    const dead = Object.values(state.nodes).flatMap((n) => [n.kubelet, n.containerd]).find((r) => r && !isRunning(r));
    if (dead) throw new Error(`cannot register nodes: ${dead.name} exited:\n${logTail(dead)}`);
    if (Date.now() > deadline) throw new Error(`cannot register nodes: ${names.length} of ${cluster.topology.nodes.length} after 120 s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Removes everything the lab created; returns what could not be removed (empty when clean). */
export async function clusterDown(options: { id?: string; progress?: (line: string) => void } = {}): Promise<string[]> {
  const id = options.id ?? DEFAULT_LAB_ID;
  const say = stepLogger(options.progress ?? ((line) => process.stdout.write(`${line}\n`)));
  const stateDir = labDir(id);
  const state = readLabState(stateDir);
  if (!state) {
    say(`no lab "${id}" (no state in ${stateDir})`);
    return [];
  }
  const topology = planTopology({ id, workers: state.workers, stateDir });
  const failures: string[] = [];
  const attempt = async (what: string, step: () => unknown) => {
    try {
      await step();
    } catch (error) {
      failures.push(`${what}: ${(error as Error).message}`);
    }
  };
  if (state.forwarder) await attempt('API forwarder', () => stopDaemon(state.forwarder as DaemonRecord));
  for (const node of topology.nodes) {
    if (!state.nodes[node.name]) continue;
    await attempt(`processes of ${node.name}`, () => killNodeProcesses(node));
    failures.push(...(await removeNodeMachine(node)));
  }
  say(`${topology.nodes.length} node(s) stopped and removed`);
  if (state.underlay) {
    const del = await run('ip', ['netns', 'del', topology.underlayNetns]);
    if (del.code !== 0 && !/No such file/.test(del.stderr)) failures.push(`netns ${topology.underlayNetns}: ${del.stderr.trim()}`);
  }
  for (const [key, value] of Object.entries(state.sysctls)) await attempt(`sysctl ${key}`, () => writeSysctl(key, value));
  if (state.mergedInto && state.context) {
    const file = state.mergedInto;
    await attempt(`context in ${file}`, () => {
      const doc = readKubeconfig(file);
      if (doc) writeKubeconfigDoc(file, removeEntry(doc, state.context as string, state.previousContext));
    });
  }
  // Another lab may still mount over these paths: they go with the last lab.
  const others = listLabs().filter((other) => other !== id);
  for (const dir of state.createdMountpoints) {
    if (others.length === 0 && isEmptyDir(dir)) await attempt(`mountpoint ${dir}`, () => rmdirSync(dir));
  }
  if (failures.length === 0) rmSync(stateDir, { recursive: true, force: true });
  say(failures.length === 0 ? `lab "${id}" removed` : `lab "${id}" partly removed; state kept in ${stateDir}: ${failures.join('; ')}`);
  return failures;
}

export interface LabStatus {
  id: string;
  stateDir: string;
  kubeconfig?: string;
  context?: string;
  processes: { name: string; running: boolean; log: string }[];
}

export function clusterStatus(id = DEFAULT_LAB_ID): LabStatus | undefined {
  const stateDir = labDir(id);
  const state = readLabState(stateDir);
  if (!state) return undefined;
  const records = [...state.controlPlane, ...(state.forwarder ? [state.forwarder] : []), ...Object.values(state.nodes).flatMap((n) => [n.anchor, n.containerd, n.kubelet].filter((r): r is DaemonRecord => r !== undefined))];
  return { id, stateDir, kubeconfig: state.kubeconfig, context: state.mergedInto ? state.context : undefined, processes: records.map((r) => ({ name: r.name, running: isRunning(r), log: r.log })) };
}

/** The running lab as a LabCluster (for the demo, tests and benchmarks that did not start it). */
export function attachCluster(id = DEFAULT_LAB_ID): LabCluster {
  const stateDir = labDir(id);
  const state = readLabState(stateDir);
  if (!state?.kubeconfig) throw new Error(`cannot attach to lab "${id}": it is not up (no state in ${stateDir}): run "npm run cluster:up"`);
  const k8s = findK8sBinaries();
  if ('missing' in k8s) throw new Error(`cannot attach to lab "${id}": ${k8s.missing}`);
  return {
    id,
    topology: planTopology({ id, workers: state.workers, stateDir }),
    kubeconfig: state.kubeconfig,
    context: state.context ?? id,
    kubectlBin: join(k8s.binDir, 'kubectl'),
    kubectl: kubectlFor(k8s.binDir, state.kubeconfig),
  };
}

/**
 * Stops a node's kubelet and containerd as `systemctl stop kubelet containerd` would (the Pods' shims and
 * containers keep running), or starts them again: what an agent upgrade or crash looks like to the network.
 */
export async function setNodeAgents(id: string, nodeName: string, running: boolean): Promise<void> {
  const stateDir = labDir(id);
  const state = readLabState(stateDir);
  const node = state && planTopology({ id, workers: state.workers, stateDir }).nodes.find((n) => n.name === nodeName);
  const agents = node && state.nodes[node.name];
  if (!node || !agents?.anchor) throw new Error(`cannot control node "${nodeName}": lab "${id}" has no such node`);
  const k8s = findK8sBinaries();
  if ('missing' in k8s) throw new Error(`cannot control node "${nodeName}": ${k8s.missing}`);
  if (!running) {
    await stopDaemonsOf(agents);
    state.nodes[node.name] = { anchor: agents.anchor };
  } else {
    const logDir = join(stateDir, 'logs');
    const containerd = agents.containerd && isRunning(agents.containerd) ? agents.containerd : await startContainerd(node, agents.anchor, logDir);
    const kubelet = agents.kubelet && isRunning(agents.kubelet) ? agents.kubelet : launchKubelet(node, { anchor: agents.anchor, binDir: k8s.binDir, logDir });
    state.nodes[node.name] = { anchor: agents.anchor, containerd, kubelet };
  }
  writeLabState(stateDir, state);
}
