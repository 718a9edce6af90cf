import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInBackground, type BackgroundProcess } from '../../lib/exec.ts';
import { createNode, readSubnetVar, routesTo, type OverlayNode } from '../../lab/node.ts';
import { addPod, type Pod } from '../../lab/pod.ts';
import { createUnderlay, type LabSettings, type Underlay } from '../../lab/underlay.ts';
import { waitFor } from '../../lab/wait.ts';
import { testLabSettings } from '../netns/overlay-cluster.ts';
import { findK8sBinaries, startControlPlane, type ControlPlane } from '../../lab/kube/control-plane.ts';
import { NetnsScope } from '../support/netns.ts';

// weftd --kube-subnet-mgr against a real control plane: the API server runs inside the underlay
// namespace (on the bridge's address), three node namespaces hang off that bridge, and each runs
// weftd with its own system:node credentials. The controller manager gives each Node a podCIDR;
// weftd turns it into the node's subnet and publishes its VTEP on the Node. Tests run in order.

const binaries = findK8sBinaries();
const skipReason = 'missing' in binaries ? binaries.missing : undefined;
if (skipReason) console.warn(`[cluster] skipping weftd --kube-subnet-mgr tests: ${skipReason}`);

const DEPLOY = resolve(import.meta.dirname, '../../deploy');
const NET = '172.30.93';
const NODE_COUNT = 3;
const NET_CONF = { Network: '10.244.0.0/16', Backend: { Type: 'vxlan', VNI: 1 } };

interface KubeNode {
  name: string;
  node: OverlayNode;
  weftd?: BackgroundProcess;
}

describe.skipIf(skipReason !== undefined)(`weftd with the kube subnet manager${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const scope = new NetnsScope();
  let lab: LabSettings;
  let underlay: Underlay;
  let cp: ControlPlane;
  let netConfPath: string;
  const nodes: KubeNode[] = [];
  const pods: Pod[] = [];

  const getNode = async (name: string): Promise<any> => JSON.parse(await cp.kubectl(['get', 'node', name, '-o', 'json']));
  const podCidrOf = async (name: string): Promise<string> => waitFor(`a podCIDR on Node "${name}"`, async () => (await getNode(name)).spec?.podCIDR, { timeoutMs: 30_000 });

  const startKubeWeftd = async (kube: KubeNode, extra: readonly string[] = []): Promise<BackgroundProcess> => {
    const [file, ...prefix] = lab.weftd;
    const kubeconfig = await cp.createNodeCredentials(kube.name);
    const args = [...prefix, '--kube-subnet-mgr', `--kubeconfig-file=${kubeconfig}`, `--net-config-path=${netConfPath}`, '--iface=eth0', `--subnet-file=${kube.node.subnetFile}`, ...extra];
    // The node name comes from NODE_NAME, as the DaemonSet sets it.
    kube.weftd = runInBackground(file!, args, { netns: kube.node.ns.path, env: { ...process.env, NODE_NAME: kube.name, WEFT_LOG_LEVEL: 'debug' } });
    return kube.weftd;
  };

  beforeAll(async () => {
    lab = testLabSettings(scope);
    underlay = await createUnderlay(lab, { net: NET });
    cp = await startControlPlane({ netns: underlay.ns.path, address: `${NET}.254` });
    // The Node authorizer lets a node patch its own Node's status but (since 1.32) read no other Node:
    // the shipped weft-node ClusterRole grants the Node watch; bound here to the nodes' own identities.
    for (const manifest of ['00-namespace.yaml', '10-rbac.yaml']) await cp.kubectl(['apply', '-f', '-'], { input: readFileSync(join(DEPLOY, manifest), 'utf8') });
    await cp.kubectl(['create', 'clusterrolebinding', 'weft-node-test', '--clusterrole=weft-node', '--group=system:nodes']);
    netConfPath = join(lab.workDir, 'net-conf.json');
    writeFileSync(netConfPath, JSON.stringify(NET_CONF), { mode: 0o600 });
    for (let index = 1; index <= NODE_COUNT; index++) {
      const name = `node-${index}`;
      const node = await createNode(underlay, index);
      await cp.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { addresses: [{ type: 'InternalIP', address: node.ip }] } }) });
      nodes.push({ name, node });
    }
  });

  afterAll(async () => {
    for (const kube of nodes) await kube.weftd?.stop('SIGTERM');
    await cp?.close();
    await scope.cleanup();
    if (lab) rmSync(lab.workDir, { recursive: true, force: true });
  });

  it('takes each node\'s subnet from its Node\'s podCIDR and writes it to the subnet file', async () => {
    for (const kube of nodes) await startKubeWeftd(kube);
    for (const kube of nodes) {
      const podCidr = await podCidrOf(kube.name);
      const subnet = await waitFor(`the subnet file of ${kube.name}`, async () => readSubnetVar(kube.node, 'FLANNEL_SUBNET'), { timeoutMs: 30_000 });
      expect(subnet.replace(/\.1\/24$/, '.0/24')).toBe(podCidr);
      expect(readSubnetVar(kube.node, 'FLANNEL_NETWORK')).toBe('10.244.0.0/16');
    }
  });

  it('publishes each node\'s VTEP in weft.dev/ annotations on its own Node', async () => {
    for (const kube of nodes) {
      const annotations = await waitFor(`annotations on ${kube.name}`, async () => {
        const a = (await getNode(kube.name)).metadata.annotations ?? {};
        return a['weft.dev/backend-data'] ? a : undefined;
      });
      const mac = JSON.parse(await kube.node.ns.exec('ip', ['-j', 'link', 'show', 'weft.1']))[0].address;
      expect(annotations).toMatchObject({ 'weft.dev/backend-type': 'vxlan', 'weft.dev/public-ip': kube.node.ip, 'weft.dev/kube-subnet-manager': 'true' });
      expect(JSON.parse(annotations['weft.dev/backend-data'])).toEqual({ VNI: 1, VtepMAC: mac });
    }
  });

  it('lets pods on different nodes ping each other over the overlay', async () => {
    for (const kube of nodes) pods.push(await addPod(kube.node, `p${kube.node.index}`));
    for (const [from, to] of [[0, 1], [1, 2], [2, 0]] as const) {
      // The first ping may race the peer's fabric: a few tries, bounded.
      const reply = await waitFor(`a ping from ${pods[from]!.ip} to ${pods[to]!.ip}`, async () => (await pods[from]!.ns.try('ping', ['-c', '1', '-W', '1', pods[to]!.ip])).code === 0, { timeoutMs: 15_000 });
      expect(reply).toBe(true);
    }
  });

  it('removes a deleted Node\'s route, neighbour and FDB entry on the other nodes', async () => {
    const gone = nodes[2]!;
    const podCidr = await podCidrOf(gone.name);
    const mac = JSON.parse((await getNode(gone.name)).metadata.annotations['weft.dev/backend-data']).VtepMAC as string;
    // weftd on that node would keep waiting for its Node to come back: stop it, as draining the node would.
    await gone.weftd?.stop('SIGTERM');
    expect(await routesTo(nodes[0]!.node, podCidr)).toContain('weft.1');
    await cp.kubectl(['delete', 'node', gone.name]);
    for (const kube of nodes.slice(0, 2)) {
      // Routes and neighbours go in one `ip -batch`, FDB entries in a `bridge -batch` after it: wait for all three.
      const withdrawn = async (): Promise<boolean> =>
        (await routesTo(kube.node, podCidr)) === '' &&
        !(await kube.node.ns.exec('ip', ['neigh', 'show', 'dev', 'weft.1'])).includes(mac) &&
        !(await kube.node.ns.exec('bridge', ['fdb', 'show', 'dev', 'weft.1'])).includes(mac);
      expect(await waitFor(`the route, neighbour and FDB entry of ${gone.name} to go from ${kube.name}`, withdrawn)).toBe(true);
    }
    // The remaining nodes still reach each other.
    expect((await pods[0]!.ns.try('ping', ['-c', '1', '-W', '2', pods[1]!.ip])).code).toBe(0);
  });

  it('withdraws a Node\'s routes when its annotations go, and a restarted weftd publishes them again', async () => {
    const [stays, restarts] = [nodes[0]!, nodes[1]!];
    const podCidr = await podCidrOf(restarts.name);
    await restarts.weftd?.stop('SIGTERM');
    await cp.kubectl(['annotate', 'node', restarts.name, 'weft.dev/backend-data-']);
    await waitFor(`the route to ${podCidr} to go from ${stays.name}`, async () => (await routesTo(stays.node, podCidr)) === '');
    await startKubeWeftd(restarts);
    await waitFor(`the route to ${podCidr} to come back on ${stays.name}`, async () => (await routesTo(stays.node, podCidr)).includes('weft.1'), { timeoutMs: 30_000 });
    expect(readSubnetVar(restarts.node, 'FLANNEL_SUBNET')?.replace(/\.1\/24$/, '.0/24')).toBe(podCidr);
    const reply = await waitFor('a ping across the restarted node', async () => (await pods[0]!.ns.try('ping', ['-c', '1', '-W', '1', pods[1]!.ip])).code === 0);
    expect(reply).toBe(true);
  });

  it('exits with a clear error and makes no device when the net-conf file is missing', async () => {
    const kube: KubeNode = { name: 'node-1', node: await createNode(underlay, 9) };
    const result = await (await startKubeWeftd(kube, [`--net-config-path=${join(lab.workDir, 'absent.json')}`])).exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot read network config \\?".*absent\.json\\?": ENOENT/);
    expect((await kube.node.ns.try('ip', ['link', 'show', 'weft.1'])).code).not.toBe(0);
    expect(existsSync(kube.node.subnetFile)).toBe(false);
  });
});
