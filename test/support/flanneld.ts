import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { runInBackground, type BackgroundProcess } from '../../lib/exec.ts';
import type { OverlayNode } from '../../lab/node.ts';
import { flanneldPath } from '../../scripts/flannel-tools.ts';

// Upstream flanneld on a lab node, as the interop test and the overlay benchmark run it: inside the
// node's namespace, leases under `prefix` in the lab's etcd, its subnet file in the node's directory,
// no masquerade rules (the delegate bridge masquerades, as with weftd in the lab).

export interface FlanneldStart {
  prefix: string;
  /** Append flanneld's log here instead of keeping it in memory. */
  logFile?: string;
}

export function startFlanneld(node: OverlayNode, options: FlanneldStart): BackgroundProcess {
  mkdirSync(dirname(node.subnetFile), { recursive: true, mode: 0o700 });
  const command = [flanneldPath(), `--etcd-endpoints=${node.underlay.etcdUrl}`, `--etcd-prefix=${options.prefix}`, '--iface=eth0', `--subnet-file=${node.subnetFile}`, '--ip-masq=false'];
  const [file, args] = options.logFile ? ['sh', ['-c', 'log="$1"; shift; exec "$@" 2>>"$log"', 'sh', options.logFile, ...command]] : [command[0]!, command.slice(1)];
  return runInBackground(file, args, { netns: node.ns.path });
}
