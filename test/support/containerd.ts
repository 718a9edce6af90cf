import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runInBackground, type BackgroundProcess, type RunResult } from '../../lib/exec.ts';
import { QUIET_DISABLED_PLUGINS } from '../../lab/kube/node-config.ts';

// containerd and runc from Debian, run inside a node namespace as a node would run them. containerd
// is started with nsenter, not `ip netns exec` (which remounts /sys and hides the cgroup mounts runc
// needs). Everything it writes lives under one test directory; `ctr run --cni` reads the fixed paths
// /etc/cni/net.d and /opt/cni/bin, so it runs in a private mount namespace with the test's
// directories bind-mounted over those two paths.

const CNI_CONF_DIR = '/etc/cni/net.d';
const CNI_BIN_DIR = '/opt/cni/bin';
const CTR_NAMESPACE = 'weft-test';
const STOP_TIMEOUT_MS = 10_000;

// Only the plugins a `ctr run` needs: no CRI, and nothing that probes for what this machine lacks.
const DISABLED_PLUGINS = ['io.containerd.grpc.v1.cri', ...QUIET_DISABLED_PLUGINS];

function renderContainerdConfig(dir: string): string {
  return [
    'version = 2',
    `root = ${JSON.stringify(join(dir, 'root'))}`,
    `state = ${JSON.stringify(join(dir, 'state'))}`,
    `disabled_plugins = ${JSON.stringify(DISABLED_PLUGINS)}`,
    '[grpc]',
    `  address = ${JSON.stringify(join(dir, 'containerd.sock'))}`,
    '[ttrpc]',
    `  address = ${JSON.stringify(join(dir, 'containerd.sock.ttrpc'))}`,
    '[debug]',
    '  level = "warn"',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${JSON.stringify(join(dir, 'opt'))}`,
    '',
  ].join('\n');
}

export interface CniMounts {
  /** Bind-mounted over /etc/cni/net.d. */
  confDir: string;
  /** Bind-mounted over /opt/cni/bin. */
  binDir: string;
}

export interface Containerd {
  dir: string;
  /** Runs ctr against this containerd, inside the node namespace. */
  ctr(args: readonly string[], input?: string): Promise<RunResult>;
  /** Runs a container to completion without CNI networking (`ctr run --rm`) and returns its output. */
  run(image: string, id: string, command: readonly string[], options?: { privileged?: boolean }): Promise<RunResult>;
  /** Runs a program in a running container (`ctr tasks exec`), its FIFOs under the test directory. */
  exec(id: string, args: readonly string[]): Promise<RunResult>;
  /** Starts `ctr run --cni` in the foreground: it calls CNI ADD before the task starts and CNI DEL when the task exits. */
  runWithCni(image: string, id: string, command: readonly string[], cni: CniMounts): BackgroundProcess;
  /** Kills every task, removes every container, stops containerd and removes its directory. */
  stop(): Promise<void>;
}

/** The bind targets must exist; on a node without CNI installed they are created empty (and left, like any CNI install). */
function ensureCniMountPoints(): void {
  for (const dir of [CNI_CONF_DIR, CNI_BIN_DIR]) mkdirSync(dir, { recursive: true, mode: 0o755 });
}

async function waitForSocket(ctr: Containerd['ctr'], daemon: BackgroundProcess): Promise<void> {
  let exited = false;
  void daemon.exited.then(() => {
    exited = true;
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    if (exited) break;
    if ((await ctr(['version'])).code === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const result = await daemon.stop('SIGKILL');
  throw new Error(`cannot start containerd: not serving after 10 s: ${result.stderr.slice(-2000)}`);
}

/** Unmounts whatever is still mounted under dir (snapshots of a task that did not exit cleanly) before removing it. */
async function unmountUnder(dir: string): Promise<void> {
  const mountPoints = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.startsWith(`${dir}/`))
    .reverse();
  for (const point of mountPoints) await run('umount', ['--lazy', point]);
}

export async function startContainerd(nodeNetns: string, dir: string): Promise<Containerd> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fifoDir = join(dir, 'fifo');
  mkdirSync(fifoDir, { mode: 0o700 });
  const config = join(dir, 'config.toml');
  writeFileSync(config, renderContainerdConfig(dir), { mode: 0o600 });
  const socket = join(dir, 'containerd.sock');
  const daemon = runInBackground('containerd', ['--config', config], { netns: nodeNetns });
  const ctrArgs = ['--address', socket, '--namespace', CTR_NAMESPACE];
  const ctr = (args: readonly string[], input?: string) => run('ctr', [...ctrArgs, ...args], { netns: nodeNetns, input, timeoutMs: 60_000 });
  await waitForSocket(ctr, daemon);
  ensureCniMountPoints();
  const runs: BackgroundProcess[] = [];
  // FIFOs and runc's state go under the test directory instead of /run/containerd.
  const runFlags = ['--fifo-dir', fifoDir, '--runc-root', join(dir, 'runc')];
  let execs = 0;

  return {
    dir,
    ctr,
    run: (image, id, command, options = {}) => ctr(['run', '--rm', ...(options.privileged ? ['--privileged'] : []), ...runFlags, image, id, ...command]),
    exec: (id, args) => ctr(['tasks', 'exec', '--fifo-dir', fifoDir, '--exec-id', `exec-${++execs}`, id, ...args]),
    runWithCni(image, id, command, cni) {
      const script = `mount --bind "$1" ${CNI_CONF_DIR} && mount --bind "$2" ${CNI_BIN_DIR} && shift 2 && exec ctr "$@"`;
      const ctrRun = [...ctrArgs, 'run', '--cni', ...runFlags, image, id, ...command];
      const started = runInBackground('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', cni.confDir, cni.binDir, ...ctrRun], { netns: nodeNetns });
      runs.push(started);
      return started;
    },
    async stop() {
      const listed = await ctr(['containers', 'list', '--quiet']);
      for (const id of listed.stdout.split('\n').filter(Boolean)) {
        await ctr(['tasks', 'kill', '--signal', 'SIGKILL', id]);
        await ctr(['tasks', 'delete', '--force', id]);
        await ctr(['containers', 'delete', id]);
      }
      for (const started of runs) await Promise.race([started.exited, new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS))]).then(() => started.stop('SIGKILL'));
      await Promise.race([daemon.stop(), new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS))]);
      await daemon.stop('SIGKILL');
      await unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Imports an image tarball (OCI layout) and unpacks it for the default snapshotter. */
export async function importImage(containerd: Containerd, tarball: string): Promise<void> {
  const result = await containerd.ctr(['images', 'import', tarball]);
  if (result.code !== 0) throw new Error(`cannot import image "${tarball}": ${result.stderr.trim()}`);
}
