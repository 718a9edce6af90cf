import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../lib/exec.ts';
import { E2eCluster, firstTwo, waitServing, type TestNamespace } from './support/cluster.ts';
import { HTTP_PORT, inspectorPod, netexecPod, service } from './support/workloads.ts';

// kubectl weft against the cluster: explain follows a Pod's request to a Service across nodes; doctor is clean when the cluster is healthy, and when one node is
// broken on purpose (IPv4 forwarding turned off, from a privileged host-network Pod) it names that node,
// the check and the fix; clean again once the node is repaired. Needs kubectl on PATH, as the plugin does.

const PLUGIN = join(resolve(process.env.WEFT_BIN_DIR ?? join(import.meta.dirname, '../../dist/bin')), 'kubectl-weft');

interface DoctorReport {
  nodes: { node: string; checks?: { id: string; status: string; summary: string; fix?: string }[]; error?: string }[];
}

async function doctor(): Promise<{ code: number; report: DoctorReport }> {
  const result = await run(PLUGIN, ['doctor', '--json'], { timeoutMs: 120_000 });
  if (!result.stdout.trim()) throw new Error(`kubectl weft doctor printed nothing (exit ${result.code}): ${result.stderr.trim()}`);
  return { code: result.code, report: JSON.parse(result.stdout) as DoctorReport };
}

const problems = (report: DoctorReport) => report.nodes.flatMap((n) => [...(n.error ? [`${n.node}: ${n.error}`] : []), ...(n.checks ?? []).filter((c) => c.status === 'warn' || c.status === 'error').map((c) => `${n.node} ${c.id}: ${c.summary}`)]);

describe('kubectl weft', () => {
  let ns: TestNamespace;
  let broken: string;

  beforeAll(async () => {
    const cluster = new E2eCluster();
    broken = firstTwo(await cluster.schedulableNodes())[1].name;
    const [first, second] = firstTwo(await cluster.schedulableNodes());
    ns = await cluster.createNamespace('doctor');
    await ns.startPods([inspectorPod('breaker', broken), netexecPod('client', { nodeName: first.name }), netexecPod('server', { nodeName: second.name, labels: { app: 'server' } })]);
    const svc = await ns.createService(service('server', { app: 'server' }, [{ name: 'http', port: 80, targetPort: HTTP_PORT }]));
    await waitServing(ns, 'client', `http://${svc.spec?.clusterIP}/hostname`);
    await cluster.waitOtherTestNamespacesGone(ns.name);
  });

  afterAll(async () => {
    await ns?.sh('breaker', 'sysctl -w net.ipv4.ip_forward=1').catch(() => undefined);
    await ns?.delete();
  });

  it('is clean on a healthy cluster: every check on every node passes or does not apply, exit 0', async () => {
    // Earlier cases restarted node agents and CoreDNS may still be turning Ready: a healthy cluster settles.
    let { code, report } = await doctor();
    for (let attempt = 1; attempt < 6 && problems(report).length > 0; attempt++) {
      await new Promise((r) => setTimeout(r, 5_000));
      ({ code, report } = await doctor());
    }
    expect(problems(report)).toEqual([]);
    expect(report.nodes.length).toBeGreaterThanOrEqual(2);
    expect(code).toBe(0);
  });

  it("explains a Pod's request to a Service on another node hop by hop, on both nodes, and finds it delivered", async () => {
    const result = await run(PLUGIN, ['explain', `pod/${ns.name}/client`, `svc/${ns.name}/server:http`], { timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    const sections = result.stdout.split('\n== node ').slice(1);
    expect(sections.length).toBe(2);
    // The DNAT hop goes to the server Pod and names the Service: iptables rules carry it in their
    // comments, nftables set elements in theirs.
    const server = (await ns.readyPod('server')).status?.podIP as string;
    expect(sections[0]).toMatch(new RegExp(`DNAT \\(${ns.name}/server:http\\): ok - to ${server.replaceAll('.', '\\.')}:${HTTP_PORT}\\b`));
    expect(sections.at(-1)).toMatch(/^verdict: delivered/m);
  });

  it('names the node whose IPv4 forwarding was turned off, with the fix, and is clean again once it is back on', async () => {
    await ns.sh('breaker', 'sysctl -w net.ipv4.ip_forward=0');
    try {
      const { code, report } = await doctor();
      expect(code).toBe(2);
      const forwarding = report.nodes.find((n) => n.node === broken)?.checks?.find((c) => c.id === 'forwarding');
      expect(forwarding?.status).toBe('error');
      expect(forwarding?.fix).toMatch(/ip_forward/);
      expect(problems(report).filter((p) => !p.startsWith(`${broken} `))).toEqual([]);
    } finally {
      await ns.sh('breaker', 'sysctl -w net.ipv4.ip_forward=1');
    }
    const { code, report } = await doctor();
    expect(problems(report)).toEqual([]);
    expect(code).toBe(0);
  });
});
