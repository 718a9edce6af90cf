import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../lib/exec.ts';
import { probeHealth, waitUntilReady } from './component-process.ts';
import { LAB_APISERVER_EXTRA_ARGS, LAB_CONTROLLERS, apiserverArgs, controllerManagerArgs, etcdArgs, etcdUrl, schedulerArgs } from './control-plane-args.ts';
import { isRunning, logTail, startDaemon, type DaemonRecord } from './daemon-process.ts';
import type { LabCredentials } from './lab-pki.ts';
import { nodeCgroupDirs, nodeExec } from './node-machine.ts';
import { API_SERVER_PORT, type LabTopology } from './topology.ts';

// The lab's control plane: etcd (Debian), kube-apiserver, kube-controller-manager and kube-scheduler as
// processes of the control-plane node (its namespaces and cgroup), as kubeadm runs them in static Pods.

const ETCD = '/usr/bin/etcd';
const ETCD_CLIENT_PORT = 2379;
const ETCD_PEER_PORT = 2380;
const READY_TIMEOUT_MS = 120_000;

export interface ControlPlaneStart {
  topology: LabTopology;
  credentials: LabCredentials;
  binDir: string;
  anchor: DaemonRecord;
  logDir: string;
  /** Records each process as soon as it exists, so a failed start can still be torn down. */
  started: (record: DaemonRecord) => void;
  log: (line: string) => void;
}

/** A `died` check over daemons: the first that exited, with the end of its log. */
export function firstDead(records: readonly DaemonRecord[]): () => string | undefined {
  return () => {
    const dead = records.find((r) => !isRunning(r));
    return dead ? `${dead.name} exited:\n${logTail(dead)}` : undefined;
  };
}

export async function startLabControlPlane(options: ControlPlaneStart): Promise<void> {
  const { topology, credentials, anchor, log } = options;
  const cp = topology.controlPlane;
  const netns = `/var/run/netns/${cp.netns}`;
  const records: DaemonRecord[] = [];
  const wait = { died: firstDead(records), timeoutMs: READY_TIMEOUT_MS, log };
  const start = (name: string, file: string, args: readonly string[]) => {
    const record = startDaemon(name, [...nodeExec(anchor), file, ...args], { log: join(options.logDir, `${name}.log`), cgroups: nodeCgroupDirs(cp) });
    records.push(record);
    options.started(record);
  };

  const dataDir = join(topology.stateDir, 'etcd');
  mkdirSync(dataDir, { mode: 0o700 });
  start('etcd', ETCD, etcdArgs({ dataDir, clientPort: ETCD_CLIENT_PORT, peerPort: ETCD_PEER_PORT }));
  await waitUntilReady('etcd', () => probeHealth(`${etcdUrl(ETCD_CLIENT_PORT)}/health`, { netns }), wait);
  log(`etcd ready on ${cp.name} (${etcdUrl(ETCD_CLIENT_PORT)})`);

  start('kube-apiserver', join(options.binDir, 'kube-apiserver'), apiserverArgs({
    etcdUrl: etcdUrl(ETCD_CLIENT_PORT),
    address: cp.ip,
    port: API_SERVER_PORT,
    ca: credentials.ca,
    serving: credentials.apiserver,
    kubeletClient: credentials.kubeletClient,
    serviceAccount: credentials.serviceAccount,
    extraArgs: LAB_APISERVER_EXTRA_ARGS,
  }));
  await waitUntilReady('kube-apiserver', () => probeHealth(`${credentials.server}/readyz`, { ca: credentials.ca.cert, netns }), wait);
  log(`kube-apiserver ready on ${credentials.server}`);

  start('kube-controller-manager', join(options.binDir, 'kube-controller-manager'), controllerManagerArgs({
    kubeconfig: credentials.kubeconfigs.controllerManager,
    ca: credentials.ca,
    serviceAccount: credentials.serviceAccount,
    controllers: LAB_CONTROLLERS,
  }));
  start('kube-scheduler', join(options.binDir, 'kube-scheduler'), schedulerArgs({ kubeconfig: credentials.kubeconfigs.scheduler }));
  // The service-account controller creating default/default shows the controller manager works with its
  // credentials; no Pod can be created before it exists.
  await waitUntilReady('kube-controller-manager', async () => {
    const result = await run(join(options.binDir, 'kubectl'), [`--kubeconfig=${credentials.kubeconfigs.admin}`, 'get', 'serviceaccount', 'default', '--namespace=default', '-o', 'name'], { netns });
    return result.code === 0 || `no ServiceAccount default/default yet (${result.stderr.trim()})`;
  }, wait);
  log('kube-controller-manager and kube-scheduler running');
}
