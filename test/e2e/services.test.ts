import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eCluster, httpGet, udpRequest, waitServing, type TestNamespace } from './support/cluster.ts';
import { HTTP_PORT, UDP_PORT, netexecPod, service } from './support/workloads.ts';

// Services as kube-proxy serves them: ClusterIP and DNS name, several ports, one port number on TCP and
// UDP, NodePort on every node, and the kubernetes Service itself.

const HOST_HTTP = 18082;
const HOST_UDP = 18083;
const REQUESTS = 30;

/** The hostnames that answered `count` requests to a URL from a Pod. */
async function answeringHosts(ns: TestNamespace, fromPod: string, url: string, count = REQUESTS): Promise<Set<string>> {
  const out = await ns.sh(fromPod, `for i in $(seq 1 ${count}); do curl -sS --max-time 3 ${url}; echo; done`);
  return new Set(out.split('\n').map((l) => l.trim()).filter(Boolean));
}

describe('services', () => {
  let ns: TestNamespace;
  let nodes: { name: string; ip: string }[];
  let clusterIp: string;
  let nodePort: number;

  beforeAll(async () => {
    const cluster = new E2eCluster();
    nodes = await cluster.schedulableNodes();
    expect(nodes.length, 'the service cases need two schedulable nodes').toBeGreaterThanOrEqual(2);
    ns = await cluster.createNamespace('svc');
    const labels = { app: 'backend' };
    await ns.startPods([
      netexecPod('backend-a', { labels, nodeName: nodes[0]?.name }),
      netexecPod('backend-b', { labels, nodeName: nodes[1]?.name }),
      netexecPod('client', { nodeName: nodes[0]?.name }),
      ...nodes.map((n, i) => netexecPod(`host-${i}`, { nodeName: n.name, hostNetwork: true, httpPort: HOST_HTTP, udpPort: HOST_UDP })),
    ]);
    const svc = await ns.createService(service('web', labels, [
      { name: 'http', port: 80, targetPort: HTTP_PORT },
      { name: 'alt', port: 8000, targetPort: HTTP_PORT },
      { name: 'dns-like', port: 80, targetPort: UDP_PORT, protocol: 'UDP' },
    ], { type: 'NodePort' }));
    clusterIp = svc.spec?.clusterIP as string;
    nodePort = svc.spec?.ports?.find((p) => p.name === 'http')?.nodePort as number;
    await ns.waitEndpoints('web', 2);
    await waitServing(ns, 'client', `http://${clusterIp}:80/hostname`);
  });

  afterAll(async () => {
    await ns?.delete();
  });

  it('a ClusterIP spreads requests over the endpoints on every node', async () => {
    expect(await answeringHosts(ns, 'client', `http://${clusterIp}:80/hostname`)).toEqual(new Set(['backend-a', 'backend-b']));
  });

  it('a Service answers by its DNS name, short and fully qualified (CoreDNS reached through the kube-dns Service)', async () => {
    expect(await answeringHosts(ns, 'client', 'http://web/hostname', 10)).not.toEqual(new Set());
    const fqdn = await httpGet(ns, 'client', `http://web.${ns.name}.svc.cluster.local/hostname`);
    expect(['backend-a', 'backend-b']).toContain(fqdn);
  });

  it('every port of a multiport Service reaches the endpoints', async () => {
    expect(await answeringHosts(ns, 'client', `http://${clusterIp}:8000/hostname`)).toEqual(new Set(['backend-a', 'backend-b']));
  });

  it('the same port number on TCP and UDP reaches the right endpoint port for each protocol', async () => {
    expect(['backend-a', 'backend-b']).toContain(await httpGet(ns, 'client', `http://${clusterIp}:80/hostname`));
    const answers = new Set<string>();
    for (let i = 0; i < 10; i++) for (const a of await udpRequest(ns, 'client', { host: clusterIp, port: 80 })) answers.add(a);
    expect(answers.size).toBeGreaterThan(0);
    for (const a of answers) expect(['backend-a', 'backend-b']).toContain(a);
  });

  it('a NodePort answers on every node, from the node itself and from the other nodes over the underlay', async () => {
    for (const [i] of nodes.entries()) {
      for (const target of nodes) {
        const got = await httpGet(ns, `host-${i}`, `http://${target.ip}:${nodePort}/hostname`);
        expect(['backend-a', 'backend-b'], `node ${i} -> ${target.name}:${nodePort}`).toContain(got);
      }
    }
  });

  it('a NodePort answers from a Pod, at any node address', async () => {
    for (const target of nodes) expect(['backend-a', 'backend-b']).toContain(await httpGet(ns, 'client', `http://${target.ip}:${nodePort}/hostname`));
  });

  it('the kubernetes Service (10.96.0.1:443) reaches the API server from a Pod', async () => {
    // /version is public (system:public-info-viewer): no token needed, only the path through the proxy.
    const body = await ns.sh('client', 'curl -sS -k --max-time 5 https://10.96.0.1:443/version');
    expect(JSON.parse(body)).toHaveProperty('gitVersion');
  });
});
