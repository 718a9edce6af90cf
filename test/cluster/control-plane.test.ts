import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findK8sBinaries, startControlPlane, type ControlPlane } from '../../lab/kube/control-plane.ts';
import { CLUSTER_CIDR, NODE_CIDR_MASK } from '../../lab/kube/control-plane-args.ts';
import { ipv4CidrContains, parseIpv4, parseIpv4Cidr } from '../../lib/ip.ts';

// Smoke test of the real control plane the proxy tests build on: the API server serves, the controller
// manager allocates podCIDRs and turns Service selectors into EndpointSlices, all without a kubelet.

const binaries = findK8sBinaries();
const skipReason = 'missing' in binaries ? binaries.missing : undefined;
if (skipReason) console.warn(`[cluster] skipping control-plane tests: ${skipReason}`);

const NODE = 'weft-smoke-node';

/** Polls until `read` returns a value `accept` likes; bounded by count and time. */
async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (let attempt = 0; attempt < 200 && Date.now() < deadline; attempt++) {
    last = await read();
    if (accept(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`cannot observe ${what} within ${timeoutMs} ms: last value ${JSON.stringify(last)}`);
}

function inCidr(ip: string, cidr: string): boolean {
  return ipv4CidrContains(parseIpv4Cidr(cidr)!, parseIpv4(ip)!);
}

describe.skipIf(skipReason !== undefined)(`control plane${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let cp: ControlPlane;
  const json = async (args: readonly string[]) => JSON.parse(await cp.kubectl([...args, '-o', 'json']));
  const apply = (manifest: unknown) => cp.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });

  beforeAll(async () => {
    cp = await startControlPlane();
    await apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } });
  });
  afterAll(async () => {
    await cp?.close();
  });

  it('serves the pinned Kubernetes version over TLS to the admin kubeconfig', async () => {
    const version = JSON.parse(await cp.kubectl(['version', '-o', 'json']));
    expect(version.serverVersion.gitVersion).toBe(cp.version);
    expect(version.clientVersion.gitVersion).toBe(cp.version);
    expect(cp.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('gives a Node created without a kubelet a /24 podCIDR from the cluster CIDR', async () => {
    const node = await eventually(() => json(['get', 'node', NODE]), (n) => Boolean(n.spec.podCIDR), 'a podCIDR on the Node');
    const [network, bits] = node.spec.podCIDR.split('/');
    expect(Number(bits)).toBe(NODE_CIDR_MASK);
    expect(inCidr(network, CLUSTER_CIDR)).toBe(true);
  });

  it('stores a Service with a selector and a manual EndpointSlice that the controller leaves alone', async () => {
    await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual', namespace: 'default' }, spec: { selector: { app: 'nobody' }, ports: [{ port: 80 }] } });
    await apply({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'manual-extra', namespace: 'default', labels: { 'kubernetes.io/service-name': 'manual', 'endpointslice.kubernetes.io/managed-by': 'weft-test' } },
      addressType: 'IPv4',
      ports: [{ name: '', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.244.99.9'], conditions: { ready: true } }],
    });
    const service = await json(['get', 'service', 'manual', '--namespace=default']);
    expect(inCidr(service.spec.clusterIP, '10.96.0.0/16')).toBe(true);
    // The controller publishes its own (empty) slice for the selector and keeps ours beside it.
    const slices = await eventually(
      () => json(['get', 'endpointslices', '--namespace=default', '-l', 'kubernetes.io/service-name=manual']),
      (list) => list.items.length === 2,
      'two slices for Service manual',
    );
    const ours = slices.items.find((s: any) => s.metadata.name === 'manual-extra');
    expect(ours.endpoints[0].addresses).toEqual(['10.244.99.9']);
    const managed = slices.items.find((s: any) => s.metadata.name !== 'manual-extra');
    expect(managed.endpoints ?? []).toEqual([]);
  });

  it('publishes a ready Pod status IP in the EndpointSlice of the Service selecting it', async () => {
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-0', namespace: 'default', labels: { app: 'web' } },
      spec: { nodeName: NODE, containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.10', ports: [{ containerPort: 8080, name: 'http' }] }] },
    });
    const status = { phase: 'Running', podIP: '10.244.7.5', podIPs: [{ ip: '10.244.7.5' }], conditions: [{ type: 'Ready', status: 'True' }] };
    await cp.kubectl(['patch', 'pod', 'web-0', '--namespace=default', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
    await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } });

    const slices = await eventually(
      () => json(['get', 'endpointslices', '--namespace=default', '-l', 'kubernetes.io/service-name=web']),
      (list) => list.items.some((s: any) => (s.endpoints ?? []).length > 0),
      'an endpoint for Service web',
    );
    const slice = slices.items.find((s: any) => (s.endpoints ?? []).length > 0);
    expect(slice.metadata.labels['endpointslice.kubernetes.io/managed-by']).toBe('endpointslice-controller.k8s.io');
    expect(slice.ports).toEqual([{ name: '', port: 8080, protocol: 'TCP' }]);
    expect(slice.endpoints).toMatchObject([{ addresses: ['10.244.7.5'], conditions: { ready: true }, nodeName: NODE, targetRef: { kind: 'Pod', name: 'web-0' } }]);
  });

  it('lets a node credential read its own Node but not Secrets', async () => {
    const nodeKubeconfig = await cp.createNodeCredentials(NODE);
    const asNode = (args: string[]) => cp.kubectl(args, { kubeconfig: nodeKubeconfig });
    expect(JSON.parse(await asNode(['get', 'node', NODE, '-o', 'json'])).metadata.name).toBe(NODE);
    await expect(asNode(['get', 'secrets', '--namespace=kube-system'])).rejects.toThrow(/forbidden/i);
  });

  it('lets the proxy credential list EndpointSlices in every namespace but not read Secrets', async () => {
    const proxyKubeconfig = await cp.createProxyCredentials();
    const slices = JSON.parse(await cp.kubectl(['get', 'endpointslices', '--all-namespaces', '-o', 'json'], { kubeconfig: proxyKubeconfig }));
    expect(slices.items.map((s: any) => s.metadata.labels['kubernetes.io/service-name'])).toContain('web');
    await expect(cp.kubectl(['get', 'secrets', '--namespace=kube-system'], { kubeconfig: proxyKubeconfig })).rejects.toThrow(/forbidden/i);
  });

  it('close stops the API server and removes every file it created', async () => {
    const dir = dirname(cp.kubeconfig);
    await cp.close();
    expect(existsSync(dir)).toBe(false);
    await expect(fetch(`${cp.server.replace('https', 'http')}/readyz`)).rejects.toThrow();
  });
});
