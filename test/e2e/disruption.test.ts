import { PatchStrategy, setHeaderOptions, type V1DaemonSet } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eCluster, firstTwo, httpGet, waitServing, waitUntil, type TestNamespace } from './support/cluster.ts';
import { nodeControlFromEnv } from './support/node-control.ts';
import { HTTP_PORT, inspectorPod, netexecDeployment, netexecPod, requestLoop, service, summarizeLoop } from './support/workloads.ts';

// Nothing drops while the cluster changes: a Deployment scaling, weft's own DaemonSets restarting, a
// node's agents restarting. Each case runs a bounded client loop (at most LOOP_REQUESTS requests, one
// every 100 ms) across the change and counts failed requests.

const LOOP_REQUESTS = 3000;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('disruption', () => {
  let cluster: E2eCluster;
  let ns: TestNamespace;
  let nodes: { name: string; ip: string }[];

  beforeAll(async () => {
    cluster = new E2eCluster();
    nodes = await cluster.schedulableNodes();
    expect(nodes.length, 'the disruption cases need two schedulable nodes').toBeGreaterThanOrEqual(2);
    ns = await cluster.createNamespace('disrupt');
    await ns.startPods([netexecPod('client', { nodeName: nodes[0]?.name })]);
  });

  afterAll(async () => {
    await ns?.delete();
  });

  /** Starts the loop against url in the client Pod; the returned function stops it and summarizes. */
  function startLoop(url: string) {
    const running = ns.run('client', ['sh', '-c', `rm -f /tmp/stop; ${requestLoop(url, LOOP_REQUESTS)}`]);
    return async () => {
      await ns.sh('client', 'touch /tmp/stop');
      const result = await running;
      return summarizeLoop(result.stdout);
    };
  }

  async function scale(name: string, replicas: number): Promise<void> {
    await cluster.apps.patchNamespacedDeployment({ name, namespace: ns.name, body: { spec: { replicas } } }, merge);
    await ns.waitEndpoints(name, replicas, 120_000);
  }

  it('a Deployment scaled 1 -> 6 -> 1 behind a Service loses no request', async () => {
    const labels = { app: 'scaled' };
    await cluster.apps.createNamespacedDeployment({ namespace: ns.name, body: netexecDeployment('scaled', labels, 1) });
    const svc = await ns.createService(service('scaled', labels, [{ name: 'http', port: 80, targetPort: HTTP_PORT }]));
    await ns.waitEndpoints('scaled', 1, 120_000);
    await waitServing(ns, 'client', `http://${svc.spec?.clusterIP}/hostname`);
    const stop = startLoop(`http://${svc.spec?.clusterIP}/hostname`);
    await scale('scaled', 6);
    await new Promise((r) => setTimeout(r, 3000));
    await scale('scaled', 1);
    // Removed Pods keep serving for their shutdown delay; the loop runs past it.
    await new Promise((r) => setTimeout(r, 8000));
    const summary = await stop();
    expect(summary.requests).toBeGreaterThan(50);
    expect(summary.failures).toEqual([]);
    expect(summary.hostnames.size).toBeGreaterThan(1);
  });

  async function podAddresses(names: readonly string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const name of names) out[name] = (await cluster.core.readNamespacedPod({ name, namespace: ns.name })).status?.podIP as string;
    return out;
  }

  async function restartDaemonSet(name: string): Promise<void> {
    const before = await cluster.apps.readNamespacedDaemonSet({ name, namespace: 'weft-system' });
    const restartedAt = new Date().toISOString();
    await cluster.apps.patchNamespacedDaemonSet({ name, namespace: 'weft-system', body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': restartedAt } } } } } }, merge);
    const generation = (before.metadata?.generation ?? 0) + 1;
    await waitUntil(`DaemonSet weft-system/${name} to roll out`, async () => {
      const ds: V1DaemonSet = await cluster.apps.readNamespacedDaemonSet({ name, namespace: 'weft-system' });
      const s = ds.status;
      return (s?.observedGeneration ?? 0) >= generation && s?.updatedNumberScheduled === s?.desiredNumberScheduled && s?.numberAvailable === s?.desiredNumberScheduled;
    }, 300_000, 1000);
  }

  for (const daemonSet of ['weft-node', 'weft-proxy']) {
    it(`a rolling restart of ${daemonSet} loses no request and no Pod loses its address`, async () => {
      const labels = { app: `behind-${daemonSet}` };
      const [a, b] = firstTwo(nodes);
      const backends = [`${daemonSet}-a`, `${daemonSet}-b`];
      await ns.startPods([netexecPod(backends[0] as string, { labels, nodeName: a.name }), netexecPod(backends[1] as string, { labels, nodeName: b.name })]);
      const svc = await ns.createService(service(`behind-${daemonSet}`, labels, [{ name: 'http', port: 80, targetPort: HTTP_PORT }]));
      await ns.waitEndpoints(`behind-${daemonSet}`, 2);
      await waitServing(ns, 'client', `http://${svc.spec?.clusterIP}/hostname`);
      const before = await podAddresses([...backends, 'client']);
      const stop = startLoop(`http://${svc.spec?.clusterIP}/hostname`);
      await restartDaemonSet(daemonSet);
      await new Promise((r) => setTimeout(r, 3000));
      const summary = await stop();
      expect(summary.requests).toBeGreaterThan(20);
      expect(summary.failures).toEqual([]);
      expect(await podAddresses([...backends, 'client'])).toEqual(before);
      for (const [pod, ip] of Object.entries(before)) expect(await ns.sh(pod, 'ip -4 -o addr show dev eth0')).toContain(` ${ip}/`);
    });
  }

  const control = nodeControlFromEnv();
  it.skipIf(!control)(`a worker whose kubelet and containerd stop and start again brings its Pods back with working networks, and leaks no address or veth (${control?.describe ?? 'set WEFT_E2E_LAB or WEFT_E2E_KIND'})`, async () => {
    const worker = firstTwo(nodes)[1];
    const pods = ['survivor-1', 'survivor-2', 'deleted-while-down'];
    await ns.startPods(pods.map((name) => netexecPod(name, { nodeName: worker.name })));
    const before = await podAddresses(pods);
    await control?.setAgents(worker.name, false);
    try {
      await cluster.core.deleteNamespacedPod({ name: 'deleted-while-down', namespace: ns.name });
    } finally {
      await control?.setAgents(worker.name, true);
    }
    await waitUntil('the Pod deleted while its node was down to be gone', async () => (await cluster.core.readNamespacedPod({ name: 'deleted-while-down', namespace: ns.name }).then(() => false, () => true)), 180_000, 1000);
    for (const name of ['survivor-1', 'survivor-2']) {
      await ns.readyPod(name, 180_000);
      expect((await podAddresses([name]))[name]).toBe(before[name]);
      expect(await httpGet(ns, 'client', `http://${before[name]}:${HTTP_PORT}/hostname`)).toBe(name);
    }
    await expectNoLeaks(worker.name);
    await cluster.core.deleteNamespacedPod({ name: 'survivor-1', namespace: ns.name });
    await waitUntil('survivor-1 to be gone', async () => (await cluster.core.readNamespacedPod({ name: 'survivor-1', namespace: ns.name }).then(() => false, () => true)), 120_000, 1000);
    const after = await expectNoLeaks(worker.name);
    expect(after.allocated).not.toContain(before['survivor-1']);
  });

  /**
   * On the node: host-local holds exactly the addresses of the node's Pods, and there is one veth per Pod
   * (polled: a Pod being deleted gives its address back shortly after it disappears from the API).
   */
  async function expectNoLeaks(node: string): Promise<{ allocated: string[] }> {
    const inspector = `inspect-${Date.now().toString(36)}`;
    await ns.startPods([inspectorPod(inspector, node)]);
    const observe = async () => {
      const allocated = (await ns.sh(inspector, 'ls /host/var/lib/cni/networks/*/ 2>/dev/null | grep -E "^[0-9.]+$" || true')).split('\n').filter(Boolean).sort();
      // Pods' veths are bridge ports; the node's own uplink may be a veth too (kind's and the lab's are).
      const veths = Number((await ns.sh(inspector, 'ip -o link show type veth | grep -c " master " || true')).trim());
      const pods = (await cluster.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items.filter((p) => !p.spec?.hostNetwork);
      const podIps = pods.map((p) => p.status?.podIP).filter((ip): ip is string => Boolean(ip)).sort();
      return { allocated, veths, podIps, settled: pods.every((p) => !p.metadata?.deletionTimestamp) };
    };
    try {
      let seen = await observe();
      const deadline = Date.now() + 90_000;
      while (!(seen.settled && JSON.stringify(seen.allocated) === JSON.stringify(seen.podIps) && seen.veths === seen.podIps.length) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 2000));
        seen = await observe();
      }
      expect(seen.allocated).toEqual(seen.podIps);
      expect(seen.veths).toBe(seen.podIps.length);
      return { allocated: seen.allocated };
    } finally {
      await cluster.core.deleteNamespacedPod({ name: inspector, namespace: ns.name, gracePeriodSeconds: 0 });
    }
  }
});
