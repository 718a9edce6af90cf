import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_26 } from '../../lab/commands.ts';
import { run, type BackgroundProcess } from '../../lib/exec.ts';
import type { CheckResult } from '../../troubleshoot/doctor/check.ts';
import type { Explanation } from '../../troubleshoot/model/explanation.ts';
import type { Component } from '../../lab/kube/component-process.ts';
import { findK8sBinaries, startControlPlane, type ControlPlane } from '../../lab/kube/control-plane.ts';
import { NetnsScope, type Netns } from '../support/netns.ts';
import { CONTROL_PLANE_IP, HTTP_PORT, NODE_IP, NODE_NAME, createNode, createPod, httpGet, pollUntil, removePodFiles, startWeftProxy, stopWeftProxy, type Pod } from './proxy-node.ts';

// weft explain, weft doctor and kubectl weft against a real kube-apiserver and a running weft-proxy
// daemon: names resolved through the API (and unknown names refused), the proxy's health and a
// Service scaled to zero seen by doctor, and kubectl weft reporting nodes that run no weft-node Pod.

const ROOT = resolve(import.meta.dirname, '../..');
const binaries = findK8sBinaries();
const skipReason = 'missing' in binaries ? binaries.missing : undefined;
if (skipReason) console.warn(`[cluster] skipping troubleshooting tests: ${skipReason}`);
const HEALTHZ = '127.0.0.1:10256';

function weft(args: readonly string[], options: { netns?: string; env?: NodeJS.ProcessEnv } = {}) {
  const [file, ...prefix] = process.env.WEFT_BIN_DIR ? [join(resolve(process.env.WEFT_BIN_DIR), args[0] === 'kubectl-weft' ? 'kubectl-weft' : 'weft')] : [NODE_26, join(ROOT, 'bin/weft.ts')];
  const rest = process.env.WEFT_BIN_DIR && args[0] === 'kubectl-weft' ? args.slice(1) : args;
  return run(file as string, [...prefix, ...rest], { ...options, timeoutMs: 120_000 });
}

describe.skipIf(skipReason !== undefined)(`troubleshooting against kube-apiserver and weft-proxy${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const scope = new NetnsScope();
  const servers: BackgroundProcess[] = [];
  let cp: ControlPlane;
  let cpNs: Netns;
  let node: Netns;
  let pod: Pod;
  let podDir = '';
  let proxy: Component | undefined;
  let webIP = '';
  const apply = async (manifest: unknown) => JSON.parse(await cp.kubectl(['apply', '-o', 'json', '-f', '-'], { input: JSON.stringify(manifest) }));
  const webSlice = (endpoints: readonly Pod[]) =>
    apply({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4', ports: [{ name: 'http', port: HTTP_PORT, protocol: 'TCP' }], endpoints: endpoints.map((p) => ({ addresses: [p.ip], conditions: { ready: true }, nodeName: NODE_NAME })),
    });
  const explain = async (args: readonly string[]) => {
    const result = await weft(['explain', ...args, '--json', '--kubeconfig', cp.kubeconfig], { netns: node.path });
    return { ...result, explanation: result.code < 2 ? (JSON.parse(result.stdout) as Explanation) : undefined };
  };
  const doctor = async () => {
    const result = await weft(['doctor', '--json'], { netns: node.path });
    return { code: result.code, checks: (JSON.parse(result.stdout) as { checks: CheckResult[] }).checks };
  };
  const kubectlWeft = (args: readonly string[]) => weft(['kubectl-weft', ...args, '--kubeconfig', cp.kubeconfig], { netns: cpNs.path, env: { ...process.env, KUBECTL: join(cp.binDir, 'kubectl') } });

  beforeAll(async () => {
    const created = await createNode(scope);
    node = created.node;
    cpNs = created.cp;
    const made = await createPod(scope, node, { name: 'p1', ip: '10.244.1.11', index: 1 });
    pod = made.pod;
    podDir = made.dir;
    servers.push(...made.servers);
    cp = await startControlPlane({ netns: created.cp.path, address: CONTROL_PLANE_IP });
    await apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE_NAME }, status: { addresses: [{ type: 'InternalIP', address: NODE_IP }] } });
    webIP = (await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: HTTP_PORT }] } })).spec.clusterIP;
    await webSlice([pod]);
    proxy = startWeftProxy(node, [`--kubeconfig=${await cp.createProxyCredentials()}`, `--hostname-override=${NODE_NAME}`, '--cluster-cidr=10.244.0.0/16', '--min-sync-period=200ms', `--healthz-bind-address=${HEALTHZ}`, `--proxy-mode=${process.env.WEFT_PROXY_MODE ?? 'iptables'}`]);
    await pollUntil(() => httpGet(node, `http://${webIP}/`), (a) => a.body === 'p1', { attempts: 100, intervalMs: 200 });
  });

  afterAll(async () => {
    if (proxy) await stopWeftProxy(proxy);
    for (const s of servers) await s.stop('SIGKILL');
    await cp?.close();
    await scope.cleanup();
    removePodFiles(podDir);
  });

  it('resolves node/NAME and svc/NS/NAME:PORT through the API and explains the node\'s own packet to the endpoint', async () => {
    const { code, explanation } = await explain(['--from', `node/${NODE_NAME}`, '--to', 'svc/default/web:http']);
    expect(code).toBe(0);
    expect(explanation?.packet).toMatchObject({ src: NODE_IP, dst: webIP, dport: 80 });
    expect(explanation?.branches.map((b) => [b.to, b.outcome])).toEqual([[`${pod.ip}:${HTTP_PORT}`, 'delivered']]);
  });

  it('refuses unknown Pod and Service names in one line, exit 2', async () => {
    const pod404 = await explain(['--from', 'pod/default/nope', '--to', `${webIP}:80`]);
    expect([pod404.code, pod404.stderr.trim()]).toEqual([2, 'weft explain: cannot resolve "pod/default/nope": Pod "nope" not found in namespace "default"']);
    const svc404 = await explain(['--from', NODE_IP, '--to', 'svc/default/nope:http']);
    expect([svc404.code, svc404.stderr.trim()]).toEqual([2, 'weft explain: cannot resolve "svc/default/nope:http": Service "nope" not found in namespace "default"']);
    const port404 = await explain(['--from', NODE_IP, '--to', 'svc/default/web:https']);
    expect(port404.code).toBe(2);
    expect(port404.stderr).toContain('the Service has no port named "https"');
  });

  it('doctor sees the running proxy healthy, then a Service scaled to zero', async () => {
    const healthy = await doctor();
    const proxyCheck = healthy.checks.find((c) => c.id === 'proxy');
    expect(proxyCheck?.status).toBe('ok');
    expect(proxyCheck?.summary).toMatch(/^weft-proxy is healthy \((iptables|nftables) rules\), last sync \d+ s ago$/);
    await webSlice([]);
    await pollUntil(() => httpGet(node, `http://${webIP}/`), (a) => a.code === 7, { attempts: 50, intervalMs: 100 });
    const { explanation } = await explain(['--from', NODE_IP, '--to', 'svc/default/web:http']);
    expect(explanation?.verdict.causes.map((c) => c.code)).toEqual(['no-endpoints']);
    expect((await doctor()).checks.find((c) => c.id === 'service-endpoints')?.status).toBe('warn');
    await webSlice([pod]);
  });

  it('doctor names a stopped proxy whose rules stay behind', async () => {
    await stopWeftProxy(proxy as Component);
    proxy = undefined;
    const report = await doctor();
    expect(report.code).toBe(2);
    expect(report.checks.find((c) => c.id === 'proxy')?.summary).toMatch(/^weft-proxy's rules are here but its health endpoint 127\.0\.0\.1:10256 does not answer/);
  });

  it('kubectl weft doctor reports a node without a weft-node Pod in its table, exit 2', async () => {
    const result = await kubectlWeft(['doctor']);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain(`${NODE_NAME}: error: no Running weft-node Pod on this node (namespace weft-system, label app.kubernetes.io/component=node)`);
  });

  it('kubectl weft explain refuses an unknown Pod and a node without weft, one line each', async () => {
    const unknown = await kubectlWeft(['explain', 'pod/default/nope', 'svc/default/web']);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([2, 'kubectl weft: cannot resolve "pod/default/nope": Pod "nope" not found in namespace "default"']);
    const noWeft = await kubectlWeft(['explain', `node/${NODE_NAME}`, 'svc/default/web']);
    expect([noWeft.code, noWeft.stderr.trim()]).toEqual([2, `kubectl weft: cannot explain on node "${NODE_NAME}": it runs no weft-node Pod (namespace weft-system, label app.kubernetes.io/component=node)`]);
  });
});
