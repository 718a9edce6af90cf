import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eCluster, firstTwo, httpGet, waitServing, type TestNamespace } from './support/cluster.ts';
import { HTTP_PORT, netexecPod, service } from './support/workloads.ts';

// The per-Service policies: ClientIP session affinity switched on and off, externalTrafficPolicy Local
// with its health check port, a Service without endpoints, and hostPort.

const HOST_HTTP = 18084;
const HOST_UDP = 18085;
const HOST_PORT = 18086;

/** Status code and JSON body of a GET from a Pod. */
async function httpStatus(ns: TestNamespace, fromPod: string, url: string): Promise<{ status: number; body: unknown }> {
  const out = await ns.sh(fromPod, `curl -sS --max-time 3 -w '\\n%{http_code}' ${url}`);
  const lines = out.trimEnd().split('\n');
  return { status: Number(lines.pop()), body: JSON.parse(lines.join('\n')) };
}

async function hostsAnswering(ns: TestNamespace, fromPod: string, url: string, count: number): Promise<string[]> {
  const out = await ns.sh(fromPod, `for i in $(seq 1 ${count}); do curl -sS --max-time 3 ${url}; echo; done`);
  return out.split('\n').map((l) => l.trim()).filter(Boolean);
}

describe('service policies', () => {
  let ns: TestNamespace;
  let nodes: { name: string; ip: string }[];

  beforeAll(async () => {
    const cluster = new E2eCluster();
    nodes = await cluster.schedulableNodes();
    expect(nodes.length, 'the policy cases need two schedulable nodes').toBeGreaterThanOrEqual(2);
    ns = await cluster.createNamespace('policy');
    await ns.startPods([
      ...[0, 1, 2].map((i) => netexecPod(`sticky-${i}`, { labels: { app: 'sticky' }, nodeName: nodes[i % 2]?.name })),
      netexecPod('local-only', { labels: { app: 'local' }, nodeName: nodes[0]?.name }),
      netexecPod('hostport', { nodeName: nodes[1]?.name, hostPort: HOST_PORT }),
      netexecPod('client', { nodeName: nodes[0]?.name }),
      ...nodes.map((n, i) => netexecPod(`host-${i}`, { nodeName: n.name, hostNetwork: true, httpPort: HOST_HTTP, udpPort: HOST_UDP })),
    ]);
  });

  afterAll(async () => {
    await ns?.delete();
  });

  it('ClientIP session affinity sends one client to one endpoint, and switched off spreads it again', async () => {
    const svc = await ns.createService(service('sticky', { app: 'sticky' }, [{ name: 'http', port: 80, targetPort: HTTP_PORT }], { sessionAffinity: 'ClientIP' }));
    await ns.waitEndpoints('sticky', 3);
    const url = `http://${svc.spec?.clusterIP}:80/hostname`;
    await waitServing(ns, 'client', url);
    expect(new Set(await hostsAnswering(ns, 'client', url, 20)).size).toBe(1);
    await ns.cluster.core.patchNamespacedService({ name: 'sticky', namespace: ns.name, body: { spec: { sessionAffinity: 'None' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    // The switch reaches every proxy within a few seconds; then 30 requests land on more than one endpoint.
    let spread = 0;
    for (let attempt = 0; attempt < 10 && spread < 2; attempt++) spread = new Set(await hostsAnswering(ns, 'client', url, 30)).size;
    expect(spread).toBeGreaterThan(1);
  });

  it('externalTrafficPolicy Local answers only on nodes with a local endpoint, keeps the client address, and its health check port says so', async () => {
    // LoadBalancer: only that type gets a healthCheckNodePort (no load balancer needs to exist for it).
    const svc = await ns.createService(service('local', { app: 'local' }, [{ name: 'http', port: 80, targetPort: HTTP_PORT }], { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }));
    await ns.waitEndpoints('local', 1);
    const nodePort = svc.spec?.ports?.[0]?.nodePort as number;
    const healthPort = svc.spec?.healthCheckNodePort as number;
    const [withEndpoint, without] = firstTwo(nodes);
    // From the other node over the underlay: the endpoint sees the caller's node address, not a masquerade.
    expect((await waitServing(ns, 'host-1', `http://${withEndpoint.ip}:${nodePort}/clientip`)).split(':')[0]).toBe(without.ip);
    expect(await httpGet(ns, 'host-0', `http://${without.ip}:${nodePort}/hostname`)).toBeUndefined();
    expect(await httpStatus(ns, 'host-1', `http://${withEndpoint.ip}:${healthPort}/`)).toMatchObject({ status: 200, body: { localEndpoints: 1 } });
    expect(await httpStatus(ns, 'host-1', `http://${without.ip}:${healthPort}/`)).toMatchObject({ status: 503, body: { localEndpoints: 0 } });
  });

  it('a Service without endpoints refuses connections at once instead of letting them time out', async () => {
    const svc = await ns.createService(service('empty', { app: 'nobody' }, [{ name: 'http', port: 80, targetPort: HTTP_PORT }]));
    const result = await ns.run('client', ['curl', '-sS', '--connect-timeout', '5', `http://${svc.spec?.clusterIP}:80/`]);
    // curl exit 7: connection refused (a REJECT), not 28: timed out (a silent drop).
    expect(result.code).toBe(7);
  });

  it("hostPort reaches the Pod at its node's address, from the node and from the other node", async () => {
    const target = nodes[1]?.ip as string;
    expect(await waitServing(ns, 'host-0', `http://${target}:${HOST_PORT}/hostname`)).toBe('hostport');
    expect(await httpGet(ns, 'host-1', `http://${target}:${HOST_PORT}/hostname`)).toBe('hostport');
    expect(await httpGet(ns, 'client', `http://${target}:${HOST_PORT}/hostname`)).toBe('hostport');
  });
});
