import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveClientAddress } from '../../lab/http-peer.ts';
import { createNode, readSubnetVar, routesTo, startWeftd, type OverlayNode } from '../../lab/node.ts';
import { addPod, type Pod } from '../../lab/pod.ts';
import { createUnderlay, etcdctl, startEtcd, stopEtcd, type LabSettings, type Underlay } from '../../lab/underlay.ts';
import { waitFor } from '../../lab/wait.ts';
import { NetnsScope } from '../support/netns.ts';
import { testLabSettings } from './overlay-cluster.ts';

// Three nodes on one underlay bridge, a real etcd, weftd in each node, one pod per node through
// weft-vxlan. The tests run in order: each later one builds on the cluster the earlier ones made.

const PREFIX = '/coreos.com/network';
// Nodes lease below .200, so the hand-made leases at .250 never collide with a node's.
const CONFIG = { Network: '10.244.0.0/16', SubnetLen: 24, SubnetMax: '10.244.199.0', Backend: { Type: 'vxlan', VNI: 1 } };

describe('weftd + weft-vxlan overlay across three nodes', () => {
  const scope = new NetnsScope();
  let underlay: Underlay;
  const nodes: OverlayNode[] = [];
  const pods: Pod[] = [];
  let lab: LabSettings;

  const subnetOf = (node: OverlayNode): string => {
    const value = readSubnetVar(node, 'FLANNEL_SUBNET')!;
    return value.replace(/\.1\/24$/, '.0/24');
  };

  const modRevision = async (key: string): Promise<number> => {
    const reply = await etcdctl(underlay, ['get', key, '-w', 'json']);
    return Number(JSON.parse(reply.stdout).kvs?.[0]?.mod_revision ?? 0);
  };

  const ping = (from: Pod, to: Pod, extra: string[] = []) => from.ns.try('ping', ['-c', '1', '-W', '2', ...extra, to.ip]);

  beforeAll(async () => {
    lab = testLabSettings(scope);
    underlay = await createUnderlay(lab, { net: '172.30.77' });
    await startEtcd(underlay);
    const put = await etcdctl(underlay, ['put', `${PREFIX}/config`, JSON.stringify(CONFIG)]);
    expect(put.code, put.stderr).toBe(0);
    for (const index of [1, 2, 3]) nodes.push(await createNode(underlay, index));
    for (const node of nodes) startWeftd(node, { args: ['--ip-masq', '--subnet-lease-renew-interval=1'] });
    for (const node of nodes) await waitFor(`subnet file of node ${node.index}`, async () => readSubnetVar(node, 'FLANNEL_SUBNET'));
    // Every node has routes to both others before pods are attached.
    for (const node of nodes) {
      await waitFor(`routes on node ${node.index}`, async () => {
        const routes = await node.ns.exec('ip', ['route', 'show', 'dev', 'weft.1']);
        return routes.trim().split('\n').filter(Boolean).length === 2;
      });
    }
    for (const node of nodes) pods.push(await addPod(node, `p${node.index}`));
  });

  afterAll(async () => {
    for (const node of nodes) await node.weftd?.stop('SIGKILL');
    if (underlay) await stopEtcd(underlay);
    await scope.cleanup();
    if (lab) rmSync(lab.workDir, { recursive: true, force: true });
  });

  it('leases distinct subnets in etcd with flannel-compatible keys and values', async () => {
    const listing = await etcdctl(underlay, ['get', '--prefix', `${PREFIX}/subnets/`]);
    const lines = listing.stdout.trim().split('\n');
    const keys = lines.filter((_, i) => i % 2 === 0);
    const values = lines.filter((_, i) => i % 2 === 1).map((v) => JSON.parse(v));
    expect(new Set(keys).size).toBe(3);
    for (const node of nodes) expect(keys).toContain(`${PREFIX}/subnets/${subnetOf(node).replace('/', '-')}`);
    expect(values.map((v) => v.PublicIP).sort()).toEqual(nodes.map((n) => n.ip).sort());
    for (const value of values) {
      expect(value.BackendType).toBe('vxlan');
      expect(value.BackendData.VNI).toBe(1);
      expect(value.BackendData.VtepMAC).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    }
  });

  it('gives the VXLAN device MTU 1450 on a 1500 underlay and the subnet network address as /32', async () => {
    const node = nodes[0]!;
    const [link] = JSON.parse(await node.ns.exec('ip', ['-d', '-j', 'addr', 'show', 'dev', 'weft.1']));
    expect(link.mtu).toBe(1450);
    expect(link.linkinfo.info_data).toMatchObject({ id: 1, port: 8472, learning: false, local: node.ip });
    expect(link.addr_info.filter((a: any) => a.family === 'inet').map((a: any) => `${a.local}/${a.prefixlen}`)).toEqual([subnetOf(node).replace('/24', '/32')]);
    expect(readSubnetVar(node, 'FLANNEL_MTU')).toBe('1450');
  });

  it('pods on different nodes exchange ping and TCP', async () => {
    for (const [from, to] of [[0, 1], [1, 2], [2, 0]] as const) {
      const result = await ping(pods[from]!, pods[to]!);
      expect(result.code, `ping ${pods[from]!.ip} -> ${pods[to]!.ip}: ${result.stdout}`).toBe(0);
    }
    await serveClientAddress(pods[1]!.ns, { port: 8080, workDir: lab.workDir });
    const seen = await waitFor('HTTP from pod 1 to pod 2', async () => {
      const r = await pods[0]!.ns.try('curl', ['-s', '--max-time', '2', `http://${pods[1]!.ip}:8080/cgi-bin/peer`]);
      return r.code === 0 ? r.stdout : undefined;
    });
    // Inside the cluster network the source is kept, even with --ip-masq.
    expect(seen.trim()).toBe(pods[0]!.ip);
  });

  it('with --ip-masq masquerades pod traffic leaving the cluster network as the node address', async () => {
    const outside = await scope.create('out');
    await underlay.ns.exec('ip', ['link', 'add', 'vout', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside.path]);
    await underlay.ns.exec('ip', ['link', 'set', 'vout', 'master', 'br0', 'up']);
    await outside.exec('ip', ['addr', 'add', '172.30.77.200/24', 'dev', 'eth0']);
    await outside.exec('ip', ['link', 'set', 'eth0', 'up']);
    await serveClientAddress(outside, { port: 8080, workDir: lab.workDir });
    const seen = await waitFor('HTTP from pod 1 to the outside host', async () => {
      const r = await pods[0]!.ns.try('curl', ['-s', '--max-time', '2', 'http://172.30.77.200:8080/cgi-bin/peer']);
      return r.code === 0 ? r.stdout : undefined;
    });
    expect(seen.trim()).toBe(nodes[0]!.ip);
  });

  it('carries a 1400-byte packet with DF set across the overlay, and refuses one above the MTU', async () => {
    const fits = await ping(pods[0]!, pods[2]!, ['-M', 'do', '-s', '1372']);
    expect(fits.code, fits.stdout + fits.stderr).toBe(0);
    const tooBig = await ping(pods[0]!, pods[2]!, ['-M', 'do', '-s', '1423']);
    expect(tooBig.code).not.toBe(0);
  });

  // weftd renews every second here, so the outage also exercises renewal retries.
  it('keeps an established flow through an etcd restart', async () => {
    const flow = pods[0]!.ns.try('ping', ['-i', '0.1', '-c', '40', '-W', '1', pods[1]!.ip]);
    await new Promise((r) => setTimeout(r, 500));
    await stopEtcd(underlay);
    await new Promise((r) => setTimeout(r, 1500));
    await startEtcd(underlay);
    const result = await flow;
    expect(result.stdout).toMatch(/40 packets transmitted, 40 (packets )?received/);
    // The daemons reconnected: a new lease shows up on the others.
    const fake = JSON.stringify({ PublicIP: '172.30.77.99', BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: '0e:00:00:00:00:99' } });
    expect((await etcdctl(underlay, ['put', `${PREFIX}/subnets/10.244.250.0-24`, fake])).code).toBe(0);
    for (const node of nodes) await waitFor(`node ${node.index} to see a lease made after the restart`, async () => (await routesTo(node, '10.244.250.0/24')) !== '');
    expect((await etcdctl(underlay, ['del', `${PREFIX}/subnets/10.244.250.0-24`])).code).toBe(0);
    for (const node of nodes) await waitFor(`node ${node.index} to drop the deleted lease`, async () => (await routesTo(node, '10.244.250.0/24')) === '');
  });

  it('a restarted weftd keeps its subnet and traffic keeps flowing', async () => {
    const node = nodes[1]!;
    const before = readSubnetVar(node, 'FLANNEL_SUBNET');
    const key = `${PREFIX}/subnets/${subnetOf(node).replace('/', '-')}`;
    const revisionBefore = await modRevision(key);
    const stopped = await node.weftd!.stop('SIGTERM');
    expect(stopped.code, stopped.stderr).toBe(0);
    startWeftd(node, { args: ['--ip-masq', '--subnet-lease-renew-interval=1'] });
    // The restarted daemon re-claims its key (a new etcd lease), which bumps the key's revision.
    await waitFor('the restarted weftd to re-claim its lease', async () => (await modRevision(key)) > revisionBefore);
    expect(readSubnetVar(node, 'FLANNEL_SUBNET')).toBe(before);
    const listing = await etcdctl(underlay, ['get', '--prefix', '--keys-only', `${PREFIX}/subnets/`]);
    expect(listing.stdout.trim().split('\n').filter(Boolean)).toHaveLength(3);
    for (const other of [pods[0]!, pods[2]!]) {
      const result = await ping(other, pods[1]!);
      expect(result.code, result.stdout).toBe(0);
    }
  });

  it('a removed node (weftd killed, lease deleted) loses its routes on the others', async () => {
    const gone = nodes[2]!;
    const subnet = subnetOf(gone);
    await gone.weftd!.stop('SIGKILL');
    expect((await etcdctl(underlay, ['del', `${PREFIX}/subnets/${subnet.replace('/', '-')}`])).code).toBe(0);
    for (const node of nodes.slice(0, 2)) {
      await waitFor(`node ${node.index} to drop the route to ${subnet}`, async () => (await routesTo(node, subnet)) === '');
      const neigh = await node.ns.exec('ip', ['neigh', 'show', 'dev', 'weft.1', subnet.replace('/24', '')]);
      expect(neigh.trim()).toBe('');
    }
    expect((await ping(pods[0]!, pods[2]!)).code).not.toBe(0);
    expect((await ping(pods[0]!, pods[1]!)).code).toBe(0);
  });
});

