import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../lib/exec.ts';
import { findK8sBinaries, startControlPlane, type ControlPlane } from '../../lab/kube/control-plane.ts';
import { NetnsScope, type Netns } from '../support/netns.ts';
import { startUpstreamKubeProxy, type UpstreamKubeProxy } from '../support/upstream-kube-proxy.ts';

// The shape the proxy tests need: the control plane inside a namespace of its own, reached over a veth
// from a node namespace, where a kube-proxy (ours or upstream) runs and programs that node's kernel.

const binaries = findK8sBinaries();
const skipReason = 'missing' in binaries ? binaries.missing : undefined;
if (skipReason) console.warn(`[cluster] skipping control-plane-in-a-namespace tests: ${skipReason}`);

const CONTROL_PLANE_IP = '10.123.0.1';
const NODE_IP = '10.123.0.2';

describe.skipIf(skipReason !== undefined)(`control plane in a namespace${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const scope = new NetnsScope();
  let node: Netns;
  let cp: ControlPlane;
  let kubeProxy: UpstreamKubeProxy | undefined;

  beforeAll(async () => {
    const cpNetns = await scope.create('cp');
    node = await scope.create('node');
    await cpNetns.exec('ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.name]);
    await cpNetns.exec('ip', ['addr', 'add', `${CONTROL_PLANE_IP}/24`, 'dev', 'eth0']);
    await cpNetns.exec('ip', ['link', 'set', 'eth0', 'up']);
    await node.exec('ip', ['addr', 'add', `${NODE_IP}/24`, 'dev', 'eth0']);
    await node.exec('ip', ['link', 'set', 'eth0', 'up']);
    cp = await startControlPlane({ netns: cpNetns.path, address: CONTROL_PLANE_IP });
  });
  afterAll(async () => {
    await kubeProxy?.close();
    await cp?.close();
    await scope.cleanup();
  });

  it('serves a client in a node namespace with a proxy credential over the veth', async () => {
    expect(cp.server).toMatch(new RegExp(`^https://${CONTROL_PLANE_IP.replaceAll('.', '\\.')}:\\d+$`));
    const kubeconfig = await cp.createProxyCredentials();
    const result = await run(`${cp.binDir}/kubectl`, [`--kubeconfig=${kubeconfig}`, 'get', 'services', '--all-namespaces', '-o', 'json'], { netns: node.path });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout).items.map((s: any) => s.metadata.name)).toContain('kubernetes');
  });

  it('publishes the API server address as the endpoint of the kubernetes Service', async () => {
    const port = Number(new URL(cp.server).port);
    let slice: any;
    for (let attempt = 0; attempt < 40 && !slice?.endpoints?.length; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 250));
      slice = JSON.parse(await cp.kubectl(['get', 'endpointslice', 'kubernetes', '--namespace=default', '-o', 'json']).catch(() => '{}'));
    }
    expect(slice.endpoints?.[0]?.addresses).toEqual([CONTROL_PLANE_IP]);
    expect(slice.ports).toMatchObject([{ name: 'https', port, protocol: 'TCP' }]);
  });
  it('runs upstream kube-proxy from the same build in the node namespace, which DNATs the Service to its endpoint', async () => {
    const apply = (manifest: unknown) => cp.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    await apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' }, status: { addresses: [{ type: 'InternalIP', address: NODE_IP }] } });
    await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    await apply({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'weft-test' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true } }],
    });
    const clusterIP = JSON.parse(await cp.kubectl(['get', 'service', 'web', '--namespace=default', '-o', 'json'])).spec.clusterIP;
    kubeProxy = startUpstreamKubeProxy({ binDir: cp.binDir, netns: node.path, nodeName: 'node-a', kubeconfig: await cp.createProxyCredentials() });

    let rules = '';
    for (let attempt = 0; attempt < 120 && !rules.includes('--to-destination 10.244.1.5:8080'); attempt++) {
      await new Promise((r) => setTimeout(r, 250));
      rules = await node.exec('iptables-save', ['-t', 'nat']);
    }
    expect(rules).toMatch(new RegExp(`-A KUBE-SERVICES -d ${clusterIP}/32 -p tcp -m comment --comment "default/web:http cluster IP" .*--dport 80 -j KUBE-SVC-`));
    expect(rules).toMatch(/-A KUBE-SEP-\S+ -p tcp -m comment --comment "default\/web:http" -m tcp -j DNAT --to-destination 10\.244\.1\.5:8080/);
    const health = await run('curl', ['-sS', '--max-time', '5', 'http://127.0.0.1:10256/healthz'], { netns: node.path });
    expect(JSON.parse(health.stdout).healthy).toBe(true);
  });
});
