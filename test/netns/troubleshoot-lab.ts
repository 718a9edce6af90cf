import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { startCluster, stopCluster, type Cluster } from '../../lab/cluster.ts';
import { NODE_26 } from '../../lab/commands.ts';
import type { OverlayNode } from '../../lab/node.ts';
import { nodeConfList, type Pod } from '../../lab/pod.ts';
import type { LabSettings } from '../../lab/underlay.ts';
import { run, runChecked, type RunResult } from '../../lib/exec.ts';
import { isProxyChain } from '../../troubleshoot/netfilter/proxy-layout.ts';
import type { CheckResult } from '../../troubleshoot/doctor/check.ts';
import { followPath, type NodeExplanation } from '../../troubleshoot/kubectl/follow.ts';
import type { Explanation } from '../../troubleshoot/model/explanation.ts';
import type { NetnsScope } from '../support/netns.ts';
import { testLabSettings } from './overlay-cluster.ts';
import { service, slice } from './proxy-topology.ts';

// The namespace cluster the troubleshooting tests explain: the lab's overlay (etcd, weftd on two
// nodes, two pods per node attached through weft-vxlan with hairpin on), each node with a default
// route to the underlay and its CNI config on disk, and weft-proxy's rules for these pods rendered by
// `weft-proxy render` and applied in the chosen mode. weft explain and weft doctor run in a node's
// namespace from the build (WEFT_BIN_DIR) or the sources.

const ROOT = resolve(import.meta.dirname, '../..');
export const WEB_IP = '10.96.0.10';
export const SOLO_IP = '10.96.0.12';
export const NODE_PORT = 30080;
export const HTTP_PORT = 8080;

export interface TroubleshootLab {
  readonly settings: LabSettings;
  readonly cluster: Cluster;
  readonly mode: 'iptables' | 'nftables';
  /** The underlay namespace's own address (etcd's): a host outside the cluster. */
  readonly outsideIp: string;
  pod(name: string): Pod;
  node(index: number): OverlayNode;
}

function weftArgv(): string[] {
  return process.env.WEFT_BIN_DIR ? [join(resolve(process.env.WEFT_BIN_DIR), 'weft')] : [NODE_26, join(ROOT, 'bin/weft.ts')];
}

/** The Service objects the proxy rules are rendered from; `webEndpoints` replaces web's endpoints (a scale to zero: []). */
export function serviceObjects(lab: Pick<TroubleshootLab, 'cluster' | 'pod'>, webEndpoints?: readonly Pod[]): unknown {
  const at = (p: Pod) => ({ ip: p.ip, node: `node-${p.node.index}` });
  const web = webEndpoints ?? [lab.pod('n1p1'), lab.pod('n2p1')];
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      service('web', WEB_IP, { nodePort: NODE_PORT, spec: { type: 'NodePort' } }),
      ...(web.length > 0 ? [slice('web', undefined, web.map(at))] : []),
      service('solo', SOLO_IP),
      slice('solo', undefined, [at(lab.pod('n1p1'))]),
      ...lab.cluster.nodes.map((n) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${n.index}` }, status: { addresses: [{ type: 'InternalIP', address: n.ip }] } })),
    ],
  };
}

/** The proxy's chains in a ruleset text, as "table chain" (from `:NAME` declarations). */
function proxyChains(text: string): Set<string> {
  const chains = new Set<string>();
  let table = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    const name = /^:(\S+)/.exec(line)?.[1];
    if (name && isProxyChain(name)) chains.add(`${table} ${name}`);
  }
  return chains;
}

/**
 * Renders the proxy's full sync for `node` from `objects` and applies it as the proxy would: the
 * rendered payload (a clean node's), then the removal of its chains the new state no longer has.
 */
export async function applyProxyRules(lab: TroubleshootLab, node: OverlayNode, objects: unknown): Promise<void> {
  const file = join(node.dir, 'objects.yaml');
  writeFileSync(file, stringify(objects), { mode: 0o600 });
  const [command, ...prefix] = process.env.WEFT_BIN_DIR ? [join(resolve(process.env.WEFT_BIN_DIR), 'weft-proxy')] : [NODE_26, join(ROOT, 'bin/weft.ts'), 'weft-proxy'];
  const rendered = await runChecked(command as string, [...prefix, 'render', '--proxy-mode', lab.mode, '--hostname-override', `node-${node.index}`, '--cluster-cidr', '10.244.0.0/16', '--objects', file]);
  if (lab.mode === 'nftables') {
    await node.ns.exec('nft', ['-f', '-'], rendered.stdout);
    return;
  }
  const before = proxyChains(await node.ns.exec('iptables-save', []));
  await node.ns.exec('iptables-restore', ['--noflush', '-w'], rendered.stdout);
  const wanted = proxyChains(rendered.stdout);
  const stale = [...before].filter((c) => !wanted.has(c)).map((c) => c.split(' ') as [string, string]);
  for (const [table, chain] of stale) await node.ns.exec('iptables', ['-w', '-t', table, '-F', chain]);
  for (const [table, chain] of stale) await node.ns.exec('iptables', ['-w', '-t', table, '-X', chain]);
}

export async function startTroubleshootLab(scope: NetnsScope, options: { mode: 'iptables' | 'nftables'; net: string }): Promise<TroubleshootLab> {
  const settings: LabSettings = { ...testLabSettings(scope), delegate: { hairpinMode: true } };
  const cluster = await startCluster(settings, { nodes: 2, podsPerNode: 2, net: options.net, network: { Network: '10.244.0.0/16', Backend: { Type: 'vxlan' } } });
  const lab: TroubleshootLab = {
    settings,
    cluster,
    mode: options.mode,
    outsideIp: `${options.net}.254`,
    pod: (name) => cluster.pods.find((p) => p.name === name) ?? (() => { throw new Error(`no pod "${name}" in the lab`); })(),
    node: (index) => cluster.nodes[index - 1] ?? (() => { throw new Error(`no node ${index} in the lab`); })(),
  };
  for (const node of cluster.nodes) {
    mkdirSync(join(node.dir, 'net.d'), { recursive: true, mode: 0o700 });
    writeFileSync(join(node.dir, 'net.d', '10-weft.conflist'), JSON.stringify(nodeConfList(node)), { mode: 0o600 });
    // Real nodes have a default route: without one, traffic nothing translates fails routing before any filter sees it.
    await node.ns.exec('ip', ['route', 'add', 'default', 'via', lab.outsideIp]);
    await applyProxyRules(lab, node, serviceObjects(lab));
  }
  for (const pod of cluster.pods) {
    const root = join(settings.workDir, `www-${pod.name}`);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    writeFileSync(join(root, 'index.html'), `${pod.name}\n`, { mode: 0o600 });
    await pod.ns.exec('busybox', ['httpd', '-p', String(HTTP_PORT), '-h', root]);
  }
  return lab;
}

export async function stopTroubleshootLab(lab: TroubleshootLab | undefined, scope: NetnsScope): Promise<void> {
  if (lab) await stopCluster(lab.cluster);
  await scope.cleanup();
  if (lab) rmSync(lab.settings.workDir, { recursive: true, force: true });
}

/** `weft ARGS` in the node's namespace, pointed at the node's CNI config and plugins. */
export function runWeft(lab: TroubleshootLab, node: OverlayNode, args: readonly string[]): Promise<RunResult> {
  const [file, ...prefix] = weftArgv() as [string, ...string[]];
  const [command = '', ...rest] = args;
  const paths = command === 'explain' || command === 'doctor' ? ['--cni-conf-dir', join(node.dir, 'net.d'), '--cni-bin-dir', lab.settings.cniBinDir] : [];
  return run(file, [...prefix, command, ...rest, ...paths], { netns: node.ns.path, timeoutMs: 60_000 });
}

export async function explain(lab: TroubleshootLab, node: OverlayNode, args: readonly string[]): Promise<{ code: number; explanation: Explanation & { probe?: ProbeJson } }> {
  const result = await runWeft(lab, node, ['explain', ...args, '--json']);
  if (result.code !== 0 && result.code !== 1) throw new Error(`weft explain ${args.join(' ')} exit ${result.code}: ${result.stderr}`);
  return { code: result.code, explanation: JSON.parse(result.stdout) };
}

export interface ProbeJson {
  readonly answer?: string;
  readonly error?: string;
  readonly comparison?: { readonly agrees: boolean; readonly checks: readonly { what: string; predicted: string; observed: string; same: boolean }[] };
}

export async function doctor(lab: TroubleshootLab, node: OverlayNode): Promise<{ code: number; checks: CheckResult[]; text: string }> {
  const result = await runWeft(lab, node, ['doctor', '--json']);
  if (result.stdout.trim() === '') throw new Error(`weft doctor exit ${result.code}: ${result.stderr}`);
  const checks = (JSON.parse(result.stdout) as { checks: CheckResult[] }).checks;
  return { code: result.code, checks, text: (await runWeft(lab, node, ['doctor'])).stdout };
}

/** Explains on `node`, then on every node the packet is handed to (what kubectl weft does through weft-node Pods). */
export function explainAcross(lab: TroubleshootLab, node: OverlayNode, args: readonly string[]): Promise<NodeExplanation[]> {
  return followPath(
    { node: `node-${node.index}`, argv: args },
    {
      explainOn: async (name, argv) => (await explain(lab, lab.node(Number(name.slice('node-'.length))), argv)).explanation,
      nodeByAddress: (ip) => {
        const found = lab.cluster.nodes.find((n) => n.ip === ip);
        return found ? `node-${found.index}` : undefined;
      },
    },
  );
}

/** An HTTP GET from a namespace: curl's exit code (0 answered, 7 refused, 28 timed out) and body. */
export async function httpGet(from: { ns: { path: string } }, url: string): Promise<{ code: number; body: string }> {
  const result = await run('curl', ['-s', '--max-time', '2', url], { netns: from.ns.path });
  return { code: result.code, body: result.stdout.trim() };
}

export async function ping(from: { ns: { path: string } }, ip: string, extra: readonly string[] = []): Promise<boolean> {
  return (await run('ping', ['-c', '1', '-W', '2', ...extra, ip], { netns: from.ns.path })).code === 0;
}

export function causeCodes(e: Explanation): string[] {
  return e.verdict.causes.map((c) => c.code);
}

export function checkOf(checks: readonly CheckResult[], id: string): CheckResult {
  const found = checks.find((c) => c.id === id);
  if (!found) throw new Error(`doctor has no check "${id}"`);
  return found;
}
