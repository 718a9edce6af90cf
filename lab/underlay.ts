import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { runInBackground, type BackgroundProcess } from '../lib/exec.ts';
import type { Netns, NetnsScope } from './netns.ts';
import { waitFor } from './wait.ts';

// A lab's underlay: one namespace holding a Linux bridge (the "physical" L2 the nodes share) and a
// real etcd. Addresses are private (a /24 the owner picks, e.g. 172.30.77.0/24) and exist only in
// the lab's namespaces.

export interface LabSettings {
  /** Names this lab's etcd member, CNI network ("weft-<id>") and container ids; unique per run. */
  id: string;
  scope: NetnsScope;
  /** Parent of every directory the lab makes (etcd data, node state); its owner removes it. */
  workDir: string;
  /** How to start weftd: the single executable, or Node 26 with bin/weft.ts and "weftd". */
  weftd: readonly string[];
  /** CNI_PATH holding weft-vxlan and its delegates. */
  cniBinDir: string;
  /** cniVersion of the network config list the runtime uses (default 1.1.0). */
  cniVersion?: string;
  /** Keys merged over the delegate config weft-vxlan builds (for example the reference bridge). */
  delegate?: Readonly<Record<string, unknown>>;
}

export interface Underlay {
  settings: LabSettings;
  ns: Netns;
  /** First three octets of the underlay subnet, e.g. "172.30.77". */
  net: string;
  etcdUrl: string;
  etcd?: BackgroundProcess;
  dataDir: string;
}

const ETCD_IP_OCTET = 254;

export async function createUnderlay(settings: LabSettings, options: { net: string; suffix?: string }): Promise<Underlay> {
  const { net } = options;
  const ns = await settings.scope.create(options.suffix ?? 'ul');
  await ns.exec('ip', ['-batch', '-'], [`link add br0 type bridge`, `addr add ${net}.${ETCD_IP_OCTET}/24 dev br0`, `link set br0 up`].join('\n'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  return { settings, ns, net, etcdUrl: `http://${net}.${ETCD_IP_OCTET}:${port}`, dataDir: mkdtempSync(join(settings.workDir, 'etcd-')) };
}

export async function startEtcd(underlay: Underlay): Promise<void> {
  const url = underlay.etcdUrl;
  const peerUrl = `http://127.0.0.1:${Number(new URL(url).port) + 1}`;
  const name = `weft-${underlay.settings.id}`;
  underlay.etcd = runInBackground(
    'etcd',
    ['--name', name, '--data-dir', underlay.dataDir, '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `${name}=${peerUrl}`],
    { netns: underlay.ns.path },
  );
  await waitFor('etcd to answer', async () => (await etcdctl(underlay, ['endpoint', 'health'])).code === 0, { timeoutMs: 20_000 });
}

export async function stopEtcd(underlay: Underlay): Promise<void> {
  await underlay.etcd?.stop('SIGTERM');
  underlay.etcd = undefined;
}

export function etcdctl(underlay: Underlay, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return underlay.ns.try('etcdctl', [`--endpoints=${underlay.etcdUrl}`, '--dial-timeout=2s', '--command-timeout=3s', ...args]);
}
