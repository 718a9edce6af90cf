import { copyFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, readSubnetVar, routesTo, startWeftd, type OverlayNode } from '../../lab/node.ts';
import { addPod, vxlanConf } from '../../lab/pod.ts';
import { createUnderlay, etcdctl, startEtcd, stopEtcd, type LabSettings, type Underlay } from '../../lab/underlay.ts';
import { waitFor } from '../../lab/wait.ts';
import { callCni } from '../support/cni.ts';
import { NetnsScope, RUN_ID } from '../support/netns.ts';
import { testLabSettings } from './overlay-cluster.ts';

// The overlay's edges: an unusable config, DirectRouting, stale entries after a restart, and the
// CNI plugin's verbs around a missing subnet file. Two nodes on one underlay, a real etcd.

const PREFIX = '/weft-direct/network';
// Nodes lease below .200, so the hand-made leases at .250 and .251 never collide with a node's.
const CONFIG = { Network: '10.245.0.0/16', SubnetMax: '10.245.199.0', Backend: { Type: 'vxlan', VNI: 1, DirectRouting: true } };

describe('weftd and weft-vxlan edge cases', () => {
  const scope = new NetnsScope();
  let underlay: Underlay;
  const nodes: OverlayNode[] = [];
  let lab: LabSettings;

  const subnetOf = (node: OverlayNode): string => readSubnetVar(node, 'FLANNEL_SUBNET')!.replace(/\.1\/24$/, '.0/24');
  const putLease = (subnet: string, publicIp: string, mac: string) =>
    etcdctl(underlay, ['put', `${PREFIX}/subnets/${subnet.replace('/', '-')}`, JSON.stringify({ PublicIP: publicIp, BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: mac } })]);

  beforeAll(async () => {
    lab = testLabSettings(scope);
    underlay = await createUnderlay(lab, { net: '172.30.78' });
    await startEtcd(underlay);
    expect((await etcdctl(underlay, ['put', `${PREFIX}/config`, JSON.stringify(CONFIG)])).code).toBe(0);
    expect((await etcdctl(underlay, ['put', '/weft-bad/network/config', JSON.stringify({ Network: '10.246.0.0/33', Backend: { Type: 'vxlan' } })])).code).toBe(0);
    for (const index of [1, 2]) nodes.push(await createNode(underlay, index));
  });

  afterAll(async () => {
    for (const node of nodes) await node.weftd?.stop('SIGKILL');
    if (underlay) await stopEtcd(underlay);
    await scope.cleanup();
    if (lab) rmSync(lab.workDir, { recursive: true, force: true });
  });

  it('exits non-zero on an unusable network config, naming the field and leaving nothing behind', async () => {
    const node = nodes[0]!;
    const outcome = await startWeftd(node, { args: ['--etcd-prefix=/weft-bad/network'] }).exited;
    expect(outcome.code).toBe(1);
    const logged = JSON.parse(outcome.stderr.trim().split('\n').at(-1)!);
    expect(logged.error.message).toMatch(/"Network" must be an IPv4 network/);
    expect((await node.ns.try('ip', ['link', 'show', 'dev', 'weft.1'])).code).not.toBe(0);
    expect(existsSync(node.subnetFile)).toBe(false);
    expect((await etcdctl(underlay, ['get', '--prefix', '--keys-only', '/weft-bad/network/subnets/'])).stdout.trim()).toBe('');
  });

  it('exits non-zero at once when the uplink cannot be found, even while the network config is still missing', async () => {
    const node = nodes[0]!;
    const started = Date.now();
    const outcome = await startWeftd(node, { args: ['--etcd-prefix=/weft-none/network', '--public-ip=172.30.78.77'] }).exited;
    expect(outcome.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    const logged = JSON.parse(outcome.stderr.trim().split('\n').at(-1)!);
    expect(logged.error.message).toBe('cannot find uplink: interface "eth0" has no IPv4 address "172.30.78.77"');
    expect((await node.ns.try('ip', ['link', 'show', 'dev', 'weft.1'])).code).not.toBe(0);
    expect(existsSync(node.subnetFile)).toBe(false);
  });

  it('with DirectRouting routes peers on the same L2 via their public IP, and pods still talk', async () => {
    for (const node of nodes) startWeftd(node, { args: [`--etcd-prefix=${PREFIX}`] });
    for (const node of nodes) await waitFor(`subnet file of node ${node.index}`, async () => readSubnetVar(node, 'FLANNEL_SUBNET'));
    const [one, two] = nodes as [OverlayNode, OverlayNode];
    const route = await waitFor('direct route on node 1', async () => (await routesTo(one, subnetOf(two))) || undefined);
    expect(route).toBe(`${subnetOf(two)} via ${two.ip} dev eth0`);
    expect((await one.ns.exec('ip', ['route', 'show', 'dev', 'weft.1'])).trim()).toBe('');
    const a = await addPod(one, 'da');
    const b = await addPod(two, 'db');
    const result = await a.ns.try('ping', ['-c', '1', '-W', '2', b.ip]);
    expect(result.code, result.stdout).toBe(0);
  });

  it('a restarted weftd removes the entries of leases deleted while it was down', async () => {
    const node = nodes[0]!;
    expect((await putLease('10.245.250.0/24', '172.30.78.99', '0e:00:00:00:00:99')).code).toBe(0);
    expect((await putLease('10.245.251.0/24', '192.168.251.1', '0e:00:00:00:00:98')).code).toBe(0);
    await waitFor('direct route to the fake peer', async () => (await routesTo(node, '10.245.250.0/24')).includes('via 172.30.78.99 dev eth0'));
    await waitFor('vxlan route to the off-link fake peer', async () => (await routesTo(node, '10.245.251.0/24')).includes('dev weft.1 onlink'));
    expect((await node.weftd!.stop('SIGTERM')).code).toBe(0);
    await etcdctl(underlay, ['del', `${PREFIX}/subnets/10.245.250.0-24`]);
    await etcdctl(underlay, ['del', `${PREFIX}/subnets/10.245.251.0-24`]);
    expect(await routesTo(node, '10.245.250.0/24')).not.toBe('');
    startWeftd(node, { args: [`--etcd-prefix=${PREFIX}`, '--healthz-port=18471'] });
    await waitFor('stale routes to be removed', async () => (await routesTo(node, '10.245.250.0/24')) === '' && (await routesTo(node, '10.245.251.0/24')) === '');
    expect((await node.ns.exec('ip', ['neigh', 'show', 'dev', 'weft.1'])).trim()).toBe('');
    expect((await node.ns.exec('bridge', ['fdb', 'show', 'dev', 'weft.1'])).trim()).toBe('');
    expect(await routesTo(node, subnetOf(nodes[1]!))).toContain(`via ${nodes[1]!.ip} dev eth0`);
    const health = await waitFor('healthz to answer', async () => {
      const r = await node.ns.try('curl', ['-s', '--max-time', '2', 'http://127.0.0.1:18471/healthz']);
      return r.code === 0 ? r.stdout : undefined;
    });
    expect(health.trim()).toBe('ok');
  });

  describe('weft-vxlan CNI verbs', () => {
    const node = (): OverlayNode => nodes[1]!;
    const conf = (extra: Record<string, unknown> = {}) => ({ ...vxlanConf(node()), cniVersion: '1.1.0', ...extra });
    const call = (command: 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC', config: unknown, containerId?: string, netns?: string) =>
      callCni({ binDir: lab.cniBinDir, plugin: 'weft-vxlan', command, config, containerId, netns, ifname: 'eth0', nodeNetns: node().ns.path });

    it('STATUS answers 50 until the subnet file exists, then succeeds', async () => {
      const missing = await call('STATUS', conf({ subnetFile: join(node().dir, 'absent.env') }));
      expect(missing.code).not.toBe(0);
      expect(missing.json.code).toBe(50);
      expect((await call('STATUS', conf())).code).toBe(0);
    });

    it('ADD without a subnet file answers 11 (try again later) naming the file', async () => {
      const pod = await scope.create('cn');
      const absent = join(node().dir, 'absent.env');
      const outcome = await call('ADD', conf({ subnetFile: absent }), `${RUN_ID}-cn`, pod.path);
      expect(outcome.json.code).toBe(11);
      expect(outcome.json.msg).toContain(absent);
      expect((await pod.try('ip', ['link', 'show', 'eth0'])).code).not.toBe(0);
    });

    it('CHECK passes after ADD, and DEL works after the subnet file is gone, releasing the address', async () => {
      const pod = await scope.create('cd');
      const subnetFile = join(node().dir, 'copy.env');
      copyFileSync(node().subnetFile, subnetFile);
      const config = conf({ subnetFile });
      const added = await call('ADD', config, `${RUN_ID}-cd`, pod.path);
      expect(added.code, added.stdout).toBe(0);
      const ip = String(added.json.ips[0].address).split('/')[0]!;
      const check = await call('CHECK', { ...config, prevResult: added.json }, `${RUN_ID}-cd`, pod.path);
      expect(check.code, check.stdout).toBe(0);
      const ipamDir = join(node().dir, 'ipam', `weft-${RUN_ID}`);
      expect(readdirSync(ipamDir)).toContain(ip);
      copyFileSync('/dev/null', subnetFile);
      const removed = await call('DEL', config, `${RUN_ID}-cd`, pod.path);
      expect(removed.code, removed.stdout).toBe(0);
      expect(readdirSync(ipamDir)).not.toContain(ip);
      expect((await pod.try('ip', ['link', 'show', 'eth0'])).code).not.toBe(0);
      expect((await call('DEL', config, `${RUN_ID}-cd`, pod.path)).code).toBe(0);
    });

    it('GC removes stored delegate configs and addresses of attachments no longer valid, keeping valid ones', async () => {
      const keep = await scope.create('gk');
      const drop = await scope.create('gd');
      const kept = await call('ADD', conf(), `${RUN_ID}-gk`, keep.path);
      const dropped = await call('ADD', conf(), `${RUN_ID}-gd`, drop.path);
      expect(kept.code, kept.stdout).toBe(0);
      expect(dropped.code, dropped.stdout).toBe(0);
      const dataDir = join(node().dir, 'cni');
      expect(readdirSync(dataDir).filter((f) => f.includes(`${RUN_ID}-g`))).toHaveLength(2);
      const gc = await call('GC', conf({ 'cni.dev/valid-attachments': [{ containerID: `${RUN_ID}-gk`, ifname: 'eth0' }] }));
      expect(gc.code, gc.stdout).toBe(0);
      expect(readdirSync(dataDir).filter((f) => f.includes(`${RUN_ID}-g`))).toEqual([`${RUN_ID}-gk:eth0.json`]);
      const ipamFiles = readdirSync(join(node().dir, 'ipam', `weft-${RUN_ID}`));
      expect(ipamFiles).toContain(String(kept.json.ips[0].address).split('/')[0]);
      expect(ipamFiles).not.toContain(String(dropped.json.ips[0].address).split('/')[0]);
    });
  });

  it('a node whose lease key is deleted while it runs claims the same subnet again', async () => {
    const node = nodes[1]!;
    const subnet = subnetOf(node);
    const key = `${PREFIX}/subnets/${subnet.replace('/', '-')}`;
    expect((await etcdctl(underlay, ['del', key])).code).toBe(0);
    const value = await waitFor('the lease to be claimed again', async () => (await etcdctl(underlay, ['get', '--print-value-only', key])).stdout.trim() || undefined);
    expect(JSON.parse(value).PublicIP).toBe(node.ip);
    expect(readSubnetVar(node, 'FLANNEL_SUBNET')).toBe(subnet.replace('.0/24', '.1/24'));
    await waitFor('node 1 to route to the re-claimed subnet', async () => (await routesTo(nodes[0]!, subnet)).includes(`via ${node.ip} dev eth0`));
  });
});
