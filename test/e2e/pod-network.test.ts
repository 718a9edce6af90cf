import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eCluster, firstTwo, httpGet, udpRequest, type TestNamespace } from './support/cluster.ts';
import { HTTP_PORT, UDP_PORT, netexecPod } from './support/workloads.ts';

// Pod-to-Pod, node-to-Pod and Pod-to-node traffic on the same node and across nodes, over HTTP and UDP,
// without NAT: every server sees its client's own address.

const HOST_HTTP = 18080;
const HOST_UDP = 18081;

describe('pod network', () => {
  let ns: TestNamespace;
  let nodes: { name: string; ip: string }[];
  const ips: Record<string, string> = {};

  beforeAll(async () => {
    const cluster = new E2eCluster();
    nodes = await cluster.schedulableNodes();
    expect(nodes.length, 'the pod network cases need two schedulable nodes').toBeGreaterThanOrEqual(2);
    ns = await cluster.createNamespace('podnet');
    const [a, b] = firstTwo(nodes);
    const pods = await ns.startPods([
      netexecPod('client', { nodeName: a.name }),
      netexecPod('local', { nodeName: a.name }),
      netexecPod('remote', { nodeName: b.name }),
      netexecPod('host-a', { nodeName: a.name, hostNetwork: true, httpPort: HOST_HTTP, udpPort: HOST_UDP }),
      netexecPod('host-b', { nodeName: b.name, hostNetwork: true, httpPort: HOST_HTTP, udpPort: HOST_UDP }),
    ]);
    for (const pod of pods) ips[pod.metadata?.name as string] = pod.status?.podIP as string;
  });

  afterAll(async () => {
    await ns?.delete();
  });

  it('gives every Pod its own address from the cluster network, distinct from the node addresses', () => {
    for (const name of ['client', 'local', 'remote']) expect(ips[name]).toMatch(/^10\.244\.\d+\.\d+$/);
    expect(new Set([ips.client, ips.local, ips.remote]).size).toBe(3);
    expect(ips['host-a']).toBe(nodes[0]?.ip);
  });

  it('a Pod reaches a Pod on the same node over HTTP, and the server sees the client Pod address', async () => {
    expect(await httpGet(ns, 'client', `http://${ips.local}:${HTTP_PORT}/hostname`)).toBe('local');
    expect((await httpGet(ns, 'client', `http://${ips.local}:${HTTP_PORT}/clientip`))?.split(':')[0]).toBe(ips.client);
  });

  it('a Pod reaches a Pod on another node over HTTP, and the server sees the client Pod address (no NAT)', async () => {
    expect(await httpGet(ns, 'client', `http://${ips.remote}:${HTTP_PORT}/hostname`)).toBe('remote');
    expect((await httpGet(ns, 'client', `http://${ips.remote}:${HTTP_PORT}/clientip`))?.split(':')[0]).toBe(ips.client);
  });

  it('a Pod reaches a Pod on the same node and on another node over UDP', async () => {
    expect(await udpRequest(ns, 'client', { host: ips.local as string, port: UDP_PORT })).toEqual(['local']);
    expect(await udpRequest(ns, 'client', { host: ips.remote as string, port: UDP_PORT })).toEqual(['remote']);
  });

  it('a node reaches a Pod on itself and on another node over HTTP and UDP', async () => {
    expect(await httpGet(ns, 'host-a', `http://${ips.local}:${HTTP_PORT}/hostname`)).toBe('local');
    expect(await httpGet(ns, 'host-a', `http://${ips.remote}:${HTTP_PORT}/hostname`)).toBe('remote');
    expect(await udpRequest(ns, 'host-a', { host: ips.remote as string, port: UDP_PORT }, { dialPort: HOST_HTTP })).toEqual(['remote']);
  });

  it('a Pod reaches its own node at its address and is seen with the Pod address', async () => {
    const [a] = firstTwo(nodes);
    expect((await httpGet(ns, 'client', `http://${a.ip}:${HOST_HTTP}/clientip`))?.split(':')[0]).toBe(ips.client);
  });

  it("a Pod reaches another node at its address, masqueraded to its own node's address (--ip-masq: it leaves the cluster network)", async () => {
    const [a, b] = firstTwo(nodes);
    expect((await httpGet(ns, 'client', `http://${b.ip}:${HOST_HTTP}/clientip`))?.split(':')[0]).toBe(a.ip);
    expect(await udpRequest(ns, 'client', { host: b.ip, port: HOST_UDP })).toEqual([b.name]);
  });
});
