import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInBackground, type BackgroundProcess } from '../lib/exec.ts';
import type { Netns } from './netns.ts';
import type { Underlay } from './underlay.ts';

// A lab node: a namespace plugged into the underlay bridge by a veth (eth0 = <net>.<index>), with its
// own state directory (subnet file, IPAM, stored delegate configs) and weftd running inside it.

export interface OverlayNode {
  index: number;
  underlay: Underlay;
  ns: Netns;
  ip: string;
  dir: string;
  subnetFile: string;
  weftd?: BackgroundProcess;
}

/** index 1..253: the node's underlay address is <net>.<index> (.254 is etcd's). */
export async function createNode(underlay: Underlay, index: number): Promise<OverlayNode> {
  if (!Number.isInteger(index) || index < 1 || index > 253) throw new Error(`cannot create node: index "${index}" is not in 1..253`);
  const ns = await underlay.settings.scope.create(`n${index}`);
  const ip = `${underlay.net}.${index}`;
  await underlay.ns.exec('ip', ['-batch', '-'], [`link add v${index} type veth peer name eth0 netns ${ns.path}`, `link set v${index} master br0 up`].join('\n'));
  await ns.exec('ip', ['-batch', '-'], [`addr add ${ip}/24 dev eth0`, `link set eth0 up`].join('\n'));
  const dir = mkdtempSync(join(underlay.settings.workDir, `node${index}-`));
  return { index, underlay, ns, ip, dir, subnetFile: join(dir, 'run/subnet.env') };
}

export interface WeftdStart {
  args?: readonly string[];
  /** Append weftd's log here instead of keeping it in memory (long runs, timing from log lines). */
  logFile?: string;
  /** WEFT_LOG_LEVEL (default debug). */
  logLevel?: string;
}

export function startWeftd(node: OverlayNode, options: WeftdStart = {}): BackgroundProcess {
  const { weftd } = node.underlay.settings;
  const command = [...weftd, `--etcd-endpoints=${node.underlay.etcdUrl}`, '--iface=eth0', `--subnet-file=${node.subnetFile}`, ...(options.args ?? [])];
  const [file, args] = options.logFile ? ['sh', ['-c', 'log="$1"; shift; exec "$@" 2>>"$log"', 'sh', options.logFile, ...command]] : [command[0]!, command.slice(1)];
  node.weftd = runInBackground(file, args, { netns: node.ns.path, env: { ...process.env, WEFT_LOG_LEVEL: options.logLevel ?? 'debug' } });
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
