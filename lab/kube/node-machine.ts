import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runChecked } from '../../lib/exec.ts';
import { isRunning, startDaemon, type DaemonRecord } from './daemon-process.ts';
import { CGROUP_HIERARCHIES, NODE_NET_SYSCTLS, NODE_PRIVATE_DIRS, NODE_PRIVATE_FILES } from './node-config.ts';
import { renderHosts, renderNodeResolvConf, UNDERLAY_GATEWAY, UNDERLAY_NET, type LabTopology, type NodePlan } from './topology.ts';

// A lab node as a machine, before any Kubernetes runs on it: what a kind node container is. Its own
// network namespace on the lab's underlay bridge, a mount and UTS namespace held by an anchor process
// (the container's init) where the node's own directories are bind-mounted over the system paths, its
// own sysfs, and a cgroup below every hierarchy that holds everything it will run.

const CGROUP_ROOT = '/sys/fs/cgroup';
/** Reference plugins a kind node image ships in /opt/cni/bin (Debian's containernetworking-plugins here). */
export const REFERENCE_PLUGINS = ['loopback', 'portmap', 'host-local', 'ptp', 'bridge'] as const;
const REFERENCE_PLUGIN_DIR = '/usr/lib/cni';

/** The node directory backing a system path: /var/lib/kubelet -> <dir>/var-lib-kubelet. */
export function backingPath(node: NodePlan, systemPath: string): string {
  return join(node.dir, systemPath.slice(1).replaceAll('/', '-'));
}

/** cgroup directories of the node, one per hierarchy. */
export function nodeCgroupDirs(node: NodePlan): string[] {
  return CGROUP_HIERARCHIES.map((h) => join(CGROUP_ROOT, h, node.cgroup));
}

/**
 * The shell script run inside the node's fresh mount and UTS namespaces: hostname, the node's own paths,
 * and a sysfs of the node's network namespace. sysfs is mounted fresh (so /sys/class/net shows the node's
 * links, not the machine's) with the cgroup hierarchies carried over: runc needs them.
 */
export function renderNodeMountScript(node: NodePlan): string {
  const keep = join(node.dir, '.cgroup-keep');
  const q = (s: string) => `'${s}'`;
  return [
    'set -eu',
    `hostname ${q(node.name)}`,
    ...[...NODE_PRIVATE_DIRS, ...NODE_PRIVATE_FILES].map((p) => `mount --bind ${q(backingPath(node, p))} ${q(p)}`),
    `mount --rbind /sys/fs/cgroup ${q(keep)}`,
    'mount -t sysfs sysfs /sys',
    `mount --rbind ${q(keep)} /sys/fs/cgroup`,
    `umount -l ${q(keep)}`,
    '',
  ].join('\n');
}

/** System paths the bind mounts need that this machine lacks (created empty; cluster:down removes them). */
export function missingMountpoints(): string[] {
  return NODE_PRIVATE_DIRS.filter((p) => !existsSync(p));
}

function createCgroups(node: NodePlan): void {
  for (const dir of nodeCgroupDirs(node)) {
    mkdirSync(dir, { recursive: true });
    // A new cpuset has no CPUs or memory nodes: inherit the machine's, or nothing can join it.
    if (dir.startsWith(join(CGROUP_ROOT, 'cpuset'))) {
      for (const file of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(dir, file), readFileSync(join(CGROUP_ROOT, 'cpuset', file)));
    }
  }
}

function createNodeFiles(topology: LabTopology, node: NodePlan): void {
  mkdirSync(node.dir, { recursive: true, mode: 0o700 });
  mkdirSync(join(node.dir, '.cgroup-keep'), { mode: 0o700 });
  for (const p of NODE_PRIVATE_DIRS) mkdirSync(backingPath(node, p), { mode: 0o755 });
  const files: Record<(typeof NODE_PRIVATE_FILES)[number], string> = {
    '/etc/hosts': renderHosts(topology),
    '/etc/resolv.conf': renderNodeResolvConf(),
    '/etc/hostname': `${node.name}\n`,
  };
  for (const [p, content] of Object.entries(files)) writeFileSync(backingPath(node, p), content, { mode: 0o644 });
  const bin = backingPath(node, '/opt/cni/bin');
  for (const plugin of REFERENCE_PLUGINS) {
    copyFileSync(join(REFERENCE_PLUGIN_DIR, plugin), join(bin, plugin));
  }
}

async function plugIntoUnderlay(topology: LabTopology, node: NodePlan): Promise<void> {
  await runChecked('ip', ['netns', 'add', node.netns]);
  await runChecked('ip', ['-n', topology.underlayNetns, '-batch', '-'], {
    input: [`link add ${node.uplink} type veth peer name eth0 netns ${node.netns}`, `link set ${node.uplink} master br0 up`].join('\n'),
  });
  await runChecked('ip', ['-n', node.netns, '-batch', '-'], {
    input: ['link set lo up', `addr add ${node.ip}/24 dev eth0`, 'link set eth0 up', `route add default via ${UNDERLAY_GATEWAY}`].join('\n'),
  });
  for (const [key, value] of Object.entries(NODE_NET_SYSCTLS)) await runChecked('ip', ['netns', 'exec', node.netns, 'sysctl', '-qw', `${key}=${value}`]);
}

/** The underlay: a namespace holding the bridge every node's eth0 plugs into, with the gateway address. */
export async function createUnderlay(topology: LabTopology): Promise<void> {
  await runChecked('ip', ['netns', 'add', topology.underlayNetns]);
  await runChecked('ip', ['-n', topology.underlayNetns, '-batch', '-'], {
    input: ['link set lo up', 'link add br0 type bridge', `addr add ${UNDERLAY_GATEWAY}/24 dev br0`, 'link set br0 up'].join('\n'),
  });
}

export const UNDERLAY_CIDR = `${UNDERLAY_NET}.0/24`;

/** Prefix for running a program inside a node: its network, mount and UTS namespaces (through its anchor). */
export function nodeExec(anchor: DaemonRecord): string[] {
  return ['nsenter', `--target=${anchor.pid}`, '--net', '--mount', '--uts', '--'];
}

/** Creates the node machine and returns its anchor process. */
export async function createNodeMachine(topology: LabTopology, node: NodePlan): Promise<DaemonRecord> {
  createNodeFiles(topology, node);
  createCgroups(node);
  await plugIntoUnderlay(topology, node);
  const anchor = startDaemon(`${node.name} anchor`, ['nsenter', `--net=/var/run/netns/${node.netns}`, '--', 'unshare', '--mount', '--uts', '--propagation', 'private', 'sleep', 'infinity'], {
    log: join(node.dir, 'anchor.log'),
    cgroups: nodeCgroupDirs(node),
  });
  // unshare has created the namespaces once the anchor runs sleep.
  for (let i = 0; i < 100 && isRunning(anchor) && !readFileSync(`/proc/${anchor.pid}/cmdline`, 'utf8').startsWith('sleep'); i++) await new Promise((r) => setTimeout(r, 20));
  if (!isRunning(anchor)) throw new Error(`cannot create node ${node.name}: its anchor process exited: ${readFileSync(anchor.log, 'utf8').trim()}`);
  await runChecked(nodeExec(anchor)[0] as string, [...nodeExec(anchor).slice(1), 'sh', '-c', renderNodeMountScript(node)]);
  return anchor;
}

/** Every pid in the node's cgroup tree (what it runs: anchor, containerd, shims, pods, kubelet). */
export function nodeProcesses(node: NodePlan): number[] {
  const pids: number[] = [];
  const walk = (dir: string) => {
    try {
      pids.push(...readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
      for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) walk(join(dir, entry.name));
    } catch {
      // the tree is gone or going
    }
  };
  walk(join(CGROUP_ROOT, 'pids', node.cgroup));
  return pids;
}

/** Kills everything the node runs (frozen first, so nothing forks while it is being killed). */
export async function killNodeProcesses(node: NodePlan): Promise<void> {
  const freezer = join(CGROUP_ROOT, 'freezer', node.cgroup, 'freezer.state');
  const frozen = existsSync(freezer);
  if (frozen) writeFileSync(freezer, 'FROZEN');
  for (const pid of nodeProcesses(node)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (frozen) writeFileSync(freezer, 'THAWED');
  for (let i = 0; i < 200 && nodeProcesses(node).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  const left = nodeProcesses(node);
  if (left.length > 0) throw new Error(`cannot stop node ${node.name}: processes ${left.join(', ')} survive SIGKILL`);
}

function removeCgroupTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeCgroupTree(join(dir, entry.name));
  rmdirSync(dir);
}

/** Removes the node's cgroups (retrying while the kernel releases exited tasks) and network namespace. */
export async function removeNodeMachine(node: NodePlan): Promise<string[]> {
  const failures: string[] = [];
  for (const dir of nodeCgroupDirs(node)) {
    for (let attempt = 0; ; attempt++) {
      try {
        removeCgroupTree(dir);
        break;
      } catch (error) {
        if (attempt >= 50) {
          failures.push(`cgroup ${dir}: ${(error as Error).message}`);
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  const del = await run('ip', ['netns', 'del', node.netns]);
  if (del.code !== 0 && !/No such file/.test(del.stderr)) failures.push(`netns ${node.netns}: ${del.stderr.trim()}`);
  return failures;
}

/** Whether a path exists and is a directory with nothing in it. */
export function isEmptyDir(path: string): boolean {
  try {
    return statSync(path).isDirectory() && readdirSync(path).length === 0;
  } catch {
    return false;
  }
}
