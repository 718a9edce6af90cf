import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runChecked } from '../../lib/exec.ts';
import { waitUntilReady } from './component-process.ts';
import { startDaemon, stopDaemon, type DaemonRecord } from './daemon-process.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { firstDead } from './lab-control-plane.ts';
import type { NodeCredentials } from './lab-pki.ts';
import { kubeletArgs, renderContainerdConfig, renderKubeletConfig } from './node-config.ts';
import { backingPath, nodeCgroupDirs, nodeExec } from './node-machine.ts';
import { API_SERVER_PORT, type LabTopology, type NodePlan } from './topology.ts';

// What runs on every lab node, control plane included: containerd (Debian) with the CRI plugin and the
// kubelet, started inside the node (its namespaces, its cgroup) as a kind node's systemd starts them.

const READY_TIMEOUT_MS = 60_000;
const K8S_NAMESPACE = 'k8s.io';

/** The node's containerd socket as the machine sees it (through the node's /run backing directory). */
export function containerdSocket(node: NodePlan): string {
  return join(backingPath(node, '/run'), 'containerd/containerd.sock');
}

/** ctr against the node's containerd, in the CRI's namespace. */
export function ctr(node: NodePlan, args: readonly string[]) {
  return run('ctr', ['--address', containerdSocket(node), '--namespace', K8S_NAMESPACE, ...args], { timeoutMs: 300_000 });
}

export async function startContainerd(node: NodePlan, anchor: DaemonRecord, logDir: string): Promise<DaemonRecord> {
  const config = join(node.dir, 'containerd.toml');
  writeFileSync(config, renderContainerdConfig(), { mode: 0o600 });
  const record = startDaemon(`containerd on ${node.name}`, [...nodeExec(anchor), 'containerd', '--config', config], { log: join(logDir, `${node.name}-containerd.log`), cgroups: nodeCgroupDirs(node) });
  await waitUntilReady(`containerd on ${node.name}`, async () => {
    const version = await ctr(node, ['version']);
    return version.code === 0 || version.stderr.trim().split('\n').pop() || `ctr exit ${version.code}`;
  }, { died: firstDead([record]), timeoutMs: READY_TIMEOUT_MS, log: () => {} });
  return record;
}

/** Imports image tarballs into the node's containerd, unpacked for its snapshotter. */
export async function importImages(node: NodePlan, tarballs: readonly string[]): Promise<void> {
  for (const tarball of tarballs) {
    const result = await ctr(node, ['images', 'import', tarball]);
    if (result.code !== 0) throw new Error(`cannot import image "${tarball}" on ${node.name}: ${result.stderr.trim()}`);
  }
}

/** Image names the node's containerd holds. */
export async function listImages(node: NodePlan): Promise<string[]> {
  const result = await runChecked('ctr', ['--address', containerdSocket(node), '--namespace', K8S_NAMESPACE, 'images', 'list', '--quiet']);
  return result.stdout.split('\n').filter(Boolean);
}

export interface KubeletStart {
  topology: LabTopology;
  node: NodePlan;
  anchor: DaemonRecord;
  binDir: string;
  caFile: string;
  credentials: NodeCredentials;
  logDir: string;
}

/**
 * The kubelet's files in kubeadm's layout, as the node sees them: /etc/kubernetes/kubelet.conf reaching the
 * API server by the control-plane node's name (the node's /etc/hosts), /var/lib/kubelet/config.yaml and pki.
 */
export function writeKubeletFiles(options: Omit<KubeletStart, 'anchor' | 'binDir' | 'logDir'>): void {
  const { node } = options;
  const etc = backingPath(node, '/etc/kubernetes');
  const varLib = backingPath(node, '/var/lib/kubelet');
  mkdirSync(join(etc, 'pki'), { recursive: true, mode: 0o700 });
  mkdirSync(join(varLib, 'pki'), { recursive: true, mode: 0o700 });
  const copy = (from: string, to: string) => {
    copyFileSync(from, to);
    chmodSync(to, 0o600);
  };
  copy(options.caFile, join(etc, 'pki/ca.crt'));
  copy(options.credentials.client.cert, join(varLib, 'pki/kubelet-client.crt'));
  copy(options.credentials.client.key, join(varLib, 'pki/kubelet-client.key'));
  copy(options.credentials.serving.cert, join(varLib, 'pki/kubelet.crt'));
  copy(options.credentials.serving.key, join(varLib, 'pki/kubelet.key'));
  writeKubeconfig(join(etc, 'kubelet.conf'), {
    server: `https://${options.topology.controlPlane.name}:${API_SERVER_PORT}`,
    caFile: '/etc/kubernetes/pki/ca.crt',
    user: `system:node:${node.name}`,
    credentials: { cert: '/var/lib/kubelet/pki/kubelet-client.crt', key: '/var/lib/kubelet/pki/kubelet-client.key' },
  });
  writeFileSync(join(varLib, 'config.yaml'), renderKubeletConfig(node, {
    caFile: '/etc/kubernetes/pki/ca.crt',
    tlsCertFile: '/var/lib/kubelet/pki/kubelet.crt',
    tlsPrivateKeyFile: '/var/lib/kubelet/pki/kubelet.key',
  }), { mode: 0o600 });
}

/** Starts the kubelet from the files writeKubeletFiles wrote (also after a stop: a node's agents restarting). */
export function launchKubelet(node: NodePlan, options: { anchor: DaemonRecord; binDir: string; logDir: string }): DaemonRecord {
  const args = kubeletArgs(node, { config: '/var/lib/kubelet/config.yaml', kubeconfig: '/etc/kubernetes/kubelet.conf' });
  return startDaemon(`kubelet on ${node.name}`, [...nodeExec(options.anchor), join(options.binDir, 'kubelet'), ...args], {
    log: join(options.logDir, `${node.name}-kubelet.log`),
    cgroups: nodeCgroupDirs(node),
  });
}


/** Stops the kubelet, then containerd (their own processes only: shims and containers keep running). */
export async function stopDaemonsOf(agents: { containerd?: DaemonRecord; kubelet?: DaemonRecord }): Promise<void> {
  if (agents.kubelet) await stopDaemon(agents.kubelet);
  if (agents.containerd) await stopDaemon(agents.containerd);
}
