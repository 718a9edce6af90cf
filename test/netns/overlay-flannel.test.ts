import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackgroundProcess } from '../../lib/exec.ts';
import { serveClientAddress } from '../../lab/http-peer.ts';
import { createNode, readSubnetVar, routesTo, startWeftd, type OverlayNode } from '../../lab/node.ts';
import { addPod, type Pod } from '../../lab/pod.ts';
import { createUnderlay, etcdctl, startEtcd, stopEtcd, type LabSettings, type Underlay } from '../../lab/underlay.ts';
import { waitFor } from '../../lab/wait.ts';
import { FLANNEL_VERSION, flanneldPath } from '../../scripts/flannel-tools.ts';
import { startFlanneld } from '../support/flanneld.ts';
import { NetnsScope } from '../support/netns.ts';
import { testLabSettings } from './overlay-cluster.ts';

// weftd's leases are Flannel's, so a weftd node and an upstream flanneld node (built by
// scripts/install-flanneld.ts) on one etcd carry traffic for each other. Node 1 runs weftd, node 2
// flanneld; pods on both attach through weft-vxlan, which on node 2 reads flanneld's subnet file.

const PREFIX = '/coreos.com/network';
const CONFIG = { Network: '10.244.0.0/16', SubnetLen: 24, Backend: { Type: 'vxlan', VNI: 1 } };
const FLANNELD = flanneldPath();
const installed = existsSync(FLANNELD);

if (!installed) console.warn(`skipping weftd/flanneld interop: no flanneld at "${FLANNELD}" (run: npx node scripts/install-flanneld.ts)`);

const subnetOf = (node: OverlayNode): string => readSubnetVar(node, 'FLANNEL_SUBNET')!.replace(/\.1\/24$/, '.0/24');

describe.skipIf(!installed)(`weftd and flanneld ${FLANNEL_VERSION} on one etcd`, () => {
  const scope = new NetnsScope();
  let lab: LabSettings;
  let underlay: Underlay;
  let weftNode: OverlayNode;
  let flannelNode: OverlayNode;
  let flanneld: BackgroundProcess | undefined;
  let weftPod: Pod;
  let flannelPod: Pod;

  // A flanneld that exits (bad flags, etcd refused) fails the wait at once, with its own words.
  const unlessFlanneldExited = async <T>(check: () => T | undefined): Promise<T | undefined> => {
    const exited = await Promise.race([flanneld!.exited, Promise.resolve(undefined)]);
    if (exited) throw new Error(`cannot run flanneld: it exited ${exited.code}: ${exited.stderr.slice(-2000)}`);
    return check();
  };

  beforeAll(async () => {
    lab = testLabSettings(scope);
    underlay = await createUnderlay(lab, { net: '172.30.78' });
    await startEtcd(underlay);
    const put = await etcdctl(underlay, ['put', `${PREFIX}/config`, JSON.stringify(CONFIG)]);
    expect(put.code, put.stderr).toBe(0);
    weftNode = await createNode(underlay, 1);
    flannelNode = await createNode(underlay, 2);
    startWeftd(weftNode);
    flanneld = startFlanneld(flannelNode, { prefix: PREFIX });
    for (const node of [weftNode, flannelNode]) {
      await waitFor(`subnet file of node ${node.index}`, () => unlessFlanneldExited(() => readSubnetVar(node, 'FLANNEL_SUBNET')), { timeoutMs: 30_000 });
    }
    await waitFor('node 1 to route node 2\'s subnet via weft.1', async () => (await routesTo(weftNode, subnetOf(flannelNode))).includes('dev weft.1'));
    await waitFor('node 2 to route node 1\'s subnet via flannel.1', async () => (await routesTo(flannelNode, subnetOf(weftNode))).includes('dev flannel.1'));
    weftPod = await addPod(weftNode, 'pw');
    flannelPod = await addPod(flannelNode, 'pf');
  });

  afterAll(async () => {
    await weftNode?.weftd?.stop('SIGKILL');
    await flanneld?.stop('SIGKILL');
    if (underlay) await stopEtcd(underlay);
    await scope.cleanup();
    if (lab) rmSync(lab.workDir, { recursive: true, force: true });
  });

  it('both nodes hold a lease in etcd with the same key and value shape', async () => {
    const listing = await etcdctl(underlay, ['get', '--prefix', `${PREFIX}/subnets/`]);
    const lines = listing.stdout.trim().split('\n');
    const leases = new Map(lines.filter((_, i) => i % 2 === 0).map((key, i) => [key, JSON.parse(lines[2 * i + 1]!)]));
    expect(leases.size).toBe(2);
    for (const node of [weftNode, flannelNode]) {
      const value = leases.get(`${PREFIX}/subnets/${subnetOf(node).replace('/', '-')}`);
      expect(value, `lease of node ${node.index}`).toMatchObject({ PublicIP: node.ip, BackendType: 'vxlan', BackendData: { VNI: 1 } });
      expect(value.BackendData.VtepMAC).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    }
    // Each side's VtepMAC is the MAC of its own VXLAN device.
    const macOf = async (node: OverlayNode, dev: string) => JSON.parse(await node.ns.exec('ip', ['-j', 'link', 'show', 'dev', dev]))[0].address;
    expect(leases.get(`${PREFIX}/subnets/${subnetOf(weftNode).replace('/', '-')}`).BackendData.VtepMAC).toBe(await macOf(weftNode, 'weft.1'));
    expect(leases.get(`${PREFIX}/subnets/${subnetOf(flannelNode).replace('/', '-')}`).BackendData.VtepMAC).toBe(await macOf(flannelNode, 'flannel.1'));
  });

  it('each node routes the other\'s subnet through its own VXLAN device, with the peer\'s VTEP in the FDB', async () => {
    expect(await routesTo(weftNode, subnetOf(flannelNode))).toMatch(/dev weft\.1/);
    expect(await routesTo(flannelNode, subnetOf(weftNode))).toMatch(/dev flannel\.1/);
    expect(await weftNode.ns.exec('bridge', ['fdb', 'show', 'dev', 'weft.1'])).toContain(`dst ${flannelNode.ip}`);
    expect(await flannelNode.ns.exec('bridge', ['fdb', 'show', 'dev', 'flannel.1'])).toContain(`dst ${weftNode.ip}`);
  });

  it('a pod on the weftd node pings a pod on the flanneld node and back', async () => {
    for (const [from, to] of [[weftPod, flannelPod], [flannelPod, weftPod]] as const) {
      const result = await from.ns.try('ping', ['-c', '1', '-W', '2', to.ip]);
      expect(result.code, `ping ${from.ip} -> ${to.ip}: ${result.stdout}`).toBe(0);
    }
  });

  // Neither daemon masquerades (FLANNEL_IPMASQ=false), so, as in flannel's own CNI config, the delegate
  // bridge does: the server sees the client node's VXLAN device address (the subnet's network address).
  it('HTTP works both ways between the two nodes\' pods, masqueraded by the client node\'s bridge', async () => {
    for (const [client, server, port] of [[weftPod, flannelPod, 8080], [flannelPod, weftPod, 8081]] as const) {
      expect(readSubnetVar(client.node, 'FLANNEL_IPMASQ')).toBe('false');
      await serveClientAddress(server.ns, { port, workDir: lab.workDir });
      const seen = await waitFor(`HTTP from ${client.ip} to ${server.ip}`, async () => {
        const r = await client.ns.try('curl', ['-s', '--max-time', '2', `http://${server.ip}:${port}/cgi-bin/peer`]);
        return r.code === 0 ? r.stdout : undefined;
      });
      expect(seen.trim()).toBe(subnetOf(client.node).replace(/\/24$/, ''));
    }
  });

  it('both daemons follow the same lease keys: a lease put in etcd gains a route on both nodes, its deletion drops them', async () => {
    const subnet = '10.244.250.0/24';
    const key = `${PREFIX}/subnets/${subnet.replace('/', '-')}`;
    const lease = { PublicIP: '172.30.78.99', BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: '0e:00:00:00:00:99' } };
    expect((await etcdctl(underlay, ['put', key, JSON.stringify(lease)])).code).toBe(0);
    await waitFor('weftd to route the new lease', async () => (await routesTo(weftNode, subnet)).includes('dev weft.1'));
    await waitFor('flanneld to route the new lease', async () => (await routesTo(flannelNode, subnet)).includes('dev flannel.1'));
    expect((await etcdctl(underlay, ['del', key])).code).toBe(0);
    await waitFor('weftd to drop the deleted lease', async () => (await routesTo(weftNode, subnet)) === '');
    await waitFor('flanneld to drop the deleted lease', async () => (await routesTo(flannelNode, subnet)) === '');
  });

  it("flanneld's iptables rules land in node 2's namespace", async () => {
    const rules = await flannelNode.ns.exec('iptables-save', []);
    expect(rules).toMatch(/-A FLANNEL-FWD -s 10\.244\.0\.0\/16 .*-j ACCEPT/);
  });
});
