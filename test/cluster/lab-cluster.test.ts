import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../lib/exec.ts';
import { clusterDown, clusterUp, nodeStatuses, type LabCluster } from '../../lab/kube/cluster.ts';
import { findK8sBinaries } from '../../lab/kube/control-plane.ts';
import { labDir } from '../../lab/kube/lab-state.ts';
import { KUBELET_SYSCTLS, NODE_PRIVATE_DIRS } from '../../lab/kube/node-config.ts';
import { cacheRoot } from '../../scripts/k8s-tools.ts';
import { RUN_ID } from '../support/netns.ts';

// The lab cluster's life cycle on the real machine: kubelets register their Nodes (NotReady: no CNI yet),
// and cluster:down -- also after a cluster:up that failed half-way -- leaves nothing behind: no process,
// namespace, mount, cgroup, link or file outside the lab's state directory, sysctls as they were, and the
// user's kubeconfig without the lab's context.

const found = findK8sBinaries();

interface MachineSnapshot {
  rootLinks: string;
  sysctls: Record<string, string>;
  mountpoints: Record<string, boolean>;
}

function snapshot(): Promise<MachineSnapshot> {
  return (async () => ({
    rootLinks: (await run('ip', ['-o', 'link', 'show'])).stdout.replace(/\s+link\/\S+ \S+ brd \S+/g, '').replace(/state \S+/g, ''),
    sysctls: Object.fromEntries(Object.keys(KUBELET_SYSCTLS).map((k) => [k, readFileSync(`/proc/sys/${k.replaceAll('.', '/')}`, 'utf8').trim()])),
    mountpoints: Object.fromEntries(NODE_PRIVATE_DIRS.map((p) => [p, existsSync(p)])),
  }))();
}

/** Everything of lab `id` that could outlive it; empty when nothing is left. */
async function leftovers(id: string, stateDir: string): Promise<string[]> {
  const left: string[] = [];
  for (const name of (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '')) if (name.startsWith(`${id}-`)) left.push(`netns ${name}`);
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
    for (const entry of readdirSync(join('/sys/fs/cgroup', hierarchy)).filter((e) => e.startsWith(`${id}-`))) left.push(`cgroup ${hierarchy}/${entry}`);
  }
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(stateDir)) left.push(`process ${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 120)}`);
      if (readFileSync(`/proc/${pid}/mountinfo`, 'utf8').includes(stateDir)) left.push(`mount of ${stateDir} seen by process ${pid}`);
    } catch {
      // exited while we looked
    }
  }
  if (existsSync(stateDir)) left.push(`state dir ${stateDir}`);
  return left;
}

describe.skipIf('missing' in found)('lab cluster life cycle', () => {
  const work = mkdtempSync(join(tmpdir(), 'weft-lab-test-'));
  const env = { WEFT_STATE_DIR: process.env.WEFT_STATE_DIR, KUBECONFIG: process.env.KUBECONFIG };
  const kubeconfig = join(work, 'user-kubeconfig');
  const id = `wt-${RUN_ID}`;
  let before: MachineSnapshot;
  let cluster: LabCluster | undefined;

  beforeAll(async () => {
    process.env.WEFT_STATE_DIR = join(work, 'labs');
    process.env.KUBECONFIG = kubeconfig;
    // The user's kubeconfig already holds a cluster of their own, which must survive.
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config',
      'clusters:', '- name: theirs', '  cluster: {server: "https://example.invalid"}',
      'users:', '- name: theirs', '  user: {token: t}',
      'contexts:', '- name: theirs', '  context: {cluster: theirs, user: theirs}',
      'current-context: theirs', '',
    ].join('\n'), { mode: 0o600 });
    before = await snapshot();
  });

  afterAll(async () => {
    await clusterDown({ id, progress: () => {} }).catch(() => {});
    await clusterDown({ id: `${id}-f`, progress: () => {} }).catch(() => {});
    process.env.WEFT_STATE_DIR = env.WEFT_STATE_DIR;
    process.env.KUBECONFIG = env.KUBECONFIG;
    rmSync(work, { recursive: true, force: true });
  });

  it('brings up kubelets that register their Nodes, NotReady until a CNI is installed, and merges its context', async () => {
    cluster = await clusterUp({ id, workers: 1, progress: () => {} });
    const statuses = await nodeStatuses(cluster.kubectl);
    expect(statuses.map((s) => s.name).sort()).toEqual(['weft-control-plane', 'weft-worker']);
    for (const status of statuses) {
      expect(status.ready).toBe(false);
      expect(status.notReady.join(' ')).toMatch(/network|cni|NetworkReady/i);
    }
    const nodes = JSON.parse(await cluster.kubectl(['get', 'nodes', '-o', 'json'])) as { items: { metadata: { name: string; labels: Record<string, string> }; spec: { podCIDR?: string; taints?: { key: string }[] }; status: { addresses: { type: string; address: string }[] } }[] };
    const cp = nodes.items.find((n) => n.metadata.name === 'weft-control-plane');
    expect(cp?.spec.taints?.map((t) => t.key)).toContain('node-role.kubernetes.io/control-plane');
    for (const node of nodes.items) {
      expect(node.spec.podCIDR).toMatch(/^10\.244\.\d+\.0\/24$/);
      expect(node.status.addresses).toContainEqual({ type: 'InternalIP', address: node.metadata.name === 'weft-control-plane' ? '172.18.0.2' : '172.18.0.3' });
      expect(node.metadata.labels['kubernetes.io/hostname']).toBe(node.metadata.name);
    }
    // Reached from the machine through the forwarded port, with the context merged as kind does.
    const kubectl = join((found as { binDir: string }).binDir, 'kubectl');
    const viaContext = await run(kubectl, ['--context', id, 'get', 'nodes', '-o', 'name'], { env: { ...process.env, KUBECONFIG: kubeconfig } });
    expect(viaContext.stdout.trim().split('\n').sort()).toEqual(['node/weft-control-plane', 'node/weft-worker']);
    expect(readFileSync(kubeconfig, 'utf8')).toContain('theirs');
  });

  it("cluster:down leaves nothing: no process, namespace, mount, cgroup, link or file, sysctls restored, the user's kubeconfig as before", async () => {
    expect(cluster).toBeDefined();
    expect(await clusterDown({ id, progress: () => {} })).toEqual([]);
    expect(await leftovers(id, labDir(id))).toEqual([]);
    expect(await snapshot()).toEqual(before);
    const config = readFileSync(kubeconfig, 'utf8');
    expect(config).not.toContain(id);
    expect(config).toContain('current-context: theirs');
  });

  it('cluster:up on a machine without a tool it needs names the tool and how to install it, and creates nothing', async () => {
    // A PATH holding only Node and a shell: the first tool looked for (ip) is missing.
    const nodeOnly = join(work, 'node-only');
    mkdirSync(nodeOnly);
    symlinkSync(process.execPath, join(nodeOnly, 'node'));
    symlinkSync('/bin/sh', join(nodeOnly, 'sh'));
    const result = await run(join(nodeOnly, 'node'), [join(import.meta.dirname, '../../scripts/cluster.ts'), 'up', '--id', `${id}-t`], { env: { ...process.env, PATH: nodeOnly } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('cluster: cannot start the lab: "ip" is not installed: run "bash scripts/install-deps.sh" (Debian package iproute2)');
    expect(existsSync(labDir(`${id}-t`))).toBe(false);
  });

  it('a cluster:up that fails half-way (the API server exits) names the failing component and leaves nothing behind', async () => {
    // The same cache, but a kube-apiserver that exits at once: up fails after nodes, etcd and images exist.
    const cache = join(work, 'cache');
    const version = (found as { version: string }).version;
    const bin = join(cache, 'k8s', version, 'bin');
    mkdirSync(bin, { recursive: true });
    const real = join(cacheRoot(), 'k8s', version, 'bin');
    for (const entry of readdirSync(real)) if (entry !== 'kube-apiserver') symlinkSync(join(real, entry), join(bin, entry));
    writeFileSync(join(bin, 'kube-apiserver'), '#!/bin/sh\necho "kube-apiserver: simulated failure" >&2\nexit 3\n', { mode: 0o700 });
    for (const entry of ['coredns', 'images']) symlinkSync(join(cacheRoot(), entry), join(cache, entry));
    const failedId = `${id}-f`;
    const saved = process.env.WEFT_CACHE_DIR;
    process.env.WEFT_CACHE_DIR = cache;
    try {
      await expect(clusterUp({ id: failedId, workers: 1, progress: () => {} })).rejects.toThrow(/kube-apiserver[\s\S]*simulated failure/);
    } finally {
      process.env.WEFT_CACHE_DIR = saved;
    }
    expect(await leftovers(failedId, labDir(failedId))).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });
});
