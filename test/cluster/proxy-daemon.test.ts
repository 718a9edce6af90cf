import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, runInBackground, type BackgroundProcess } from '../../lib/exec.ts';
import type { Component } from '../../lab/kube/component-process.ts';
import { findK8sBinaries, startControlPlane, type ControlPlane } from '../../lab/kube/control-plane.ts';
import { NetnsScope, type Netns } from '../support/netns.ts';
import {
  CONTROL_PLANE_IP, HTTP_PORT, NODE_IP, NODE_NAME, UDP_PORT, createNode, createPod, httpGet, pollUntil, removePodFiles, startWeftProxy, stopWeftProxy, udpConversation, type Pod,
} from './proxy-node.ts';

// weft-proxy against a real kube-apiserver: the control plane in its own namespace, the proxy in a
// node namespace, backends in pod namespaces. Everything is checked by traffic from the node. The
// proxy, the pods and the control plane are shared; each case creates the Services it needs, so the
// cases run in any order.

const LIST_BOTH_ENCODINGS = resolve(import.meta.dirname, 'list-both-encodings.ts');

const binaries = findK8sBinaries();
const skipReason = 'missing' in binaries ? binaries.missing : undefined;
if (skipReason) console.warn(`[cluster] skipping weft-proxy daemon tests: ${skipReason}`);

// `--proxy-mode` under test: WEFT_PROXY_MODE=nftables runs the same cases against the nftables backend.
const PROXY_MODE = process.env.WEFT_PROXY_MODE === 'nftables' ? 'nftables' : 'iptables';
const HEALTHZ = '127.0.0.1:10256';
const METRICS = `${NODE_IP}:10249`;
// Changes in these tests come a few hundred ms apart; the default 1 s would be part of every latency measured.
const MIN_SYNC = '200ms';

type Json = Record<string, unknown>;

function slice(name: string, service: string, endpoints: { pod: Pod; nodeName?: string }[], port: { name: string; port: number; protocol?: string }): Json {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'weft-test' },
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': new Date().toISOString() },
    },
    addressType: 'IPv4',
    ports: [{ protocol: 'TCP', ...port }],
    endpoints: endpoints.map((e) => ({ addresses: [e.pod.ip], conditions: { ready: true }, ...(e.nodeName ? { nodeName: e.nodeName } : {}) })),
  };
}

describe.skipIf(skipReason !== undefined)(`weft-proxy daemon (${PROXY_MODE}) against kube-apiserver${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const scope = new NetnsScope();
  const servers: BackgroundProcess[] = [];
  const podDirs: string[] = [];
  let cp: ControlPlane;
  let node: Netns;
  let pods: Pod[];
  let proxy: Component | undefined;
  let proxyArgs: string[];
  let proxyLog = '';
  const apply = async (manifest: Json): Promise<Json> => JSON.parse(await cp.kubectl(['apply', '-o', 'json', '-f', '-'], { input: JSON.stringify(manifest) }));
  const service = async (name: string, spec: Json): Promise<string> => {
    const created = await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec });
    return (created.spec as { clusterIP: string }).clusterIP;
  };
  /** A ClusterIP Service `name` on port 80 with one slice of `endpoints`; returns a probe of its address and the slice's writer. */
  const httpService = async (name: string, ...endpoints: Pod[]) => {
    const ip = await service(name, { ports: [{ name: 'http', port: 80, targetPort: HTTP_PORT }] });
    const setEndpoints = (...list: Pod[]) => apply(slice(`${name}-1`, name, list.map((pod) => ({ pod })), { name: 'http', port: HTTP_PORT }));
    await setEndpoints(...endpoints);
    return { ip, get: (maxTimeS?: number) => httpGet(node, `http://${ip}/`, maxTimeS), setEndpoints };
  };
  const answers = (probe: () => Promise<{ body: string }>, body: string) => pollUntil(probe, (a) => a.body === body, { attempts: 100, intervalMs: 50 });

  beforeAll(async () => {
    const created = await createNode(scope);
    node = created.node;
    pods = [];
    for (const [i, name] of ['p1', 'p2', 'p3'].entries()) {
      const made = await createPod(scope, node, { name, ip: `10.244.1.${11 + i}`, index: i + 1 });
      pods.push(made.pod);
      servers.push(...made.servers);
      podDirs.push(made.dir);
    }
    cp = await startControlPlane({ netns: created.cp.path, address: CONTROL_PLANE_IP });
    await apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE_NAME }, status: { addresses: [{ type: 'InternalIP', address: NODE_IP }] } });
    // What a proxy of the other mode left on this node; the first sync removes it.
    if (PROXY_MODE === 'iptables') await node.exec('nft', ['add', 'table', 'ip', 'weft']);
    else await node.exec('iptables', ['-t', 'nat', '-N', 'WEFT-SERVICES']);
    proxyArgs = [
      `--kubeconfig=${await cp.createProxyCredentials()}`, `--hostname-override=${NODE_NAME}`, '--cluster-cidr=10.244.0.0/16',
      `--min-sync-period=${MIN_SYNC}`, `--healthz-bind-address=${HEALTHZ}`, `--metrics-bind-address=${METRICS}`, `--proxy-mode=${PROXY_MODE}`,
    ];
    proxy = startWeftProxy(node, proxyArgs);
    const health = await pollUntil(() => httpGet(node, `http://${HEALTHZ}/healthz`), (a) => a.code === 0 && a.body.includes('"healthy":true'), { attempts: 100, intervalMs: 200 });
    expect(health.body).toContain('"healthy":true');
  });

  afterAll(async () => {
    if (proxy) proxyLog += await stopWeftProxy(proxy);
    for (const s of servers) await s.stop('SIGKILL');
    await cp?.close();
    await scope.cleanup();
    podDirs.forEach(removePodFiles);
    if (proxyLog) console.log(`[weft-proxy log, last lines]\n${proxyLog.trim().split('\n').slice(-12).join('\n')}`);
  });

  it('removed what the other proxy mode had left on the node when it started', async () => {
    if (PROXY_MODE === 'iptables') expect(await node.exec('nft', ['list', 'tables'])).not.toContain('table ip weft');
    else expect(await node.exec('iptables-save', ['-t', 'nat'])).not.toContain('WEFT-');
  });

  it('answers a ClusterIP Service from its endpoint', async () => {
    const web = await httpService('answer', pods[0] as Pod);
    expect(await answers(web.get, 'p1')).toMatchObject({ code: 0, body: 'p1' });
  });

  it('sends traffic to an added endpoint within a second of the API write', async () => {
    const web = await httpService('added', pods[0] as Pod);
    await answers(web.get, 'p1');
    await web.setEndpoints(pods[0] as Pod, pods[1] as Pod);
    const written = performance.now();
    const answer = await pollUntil(web.get, (a) => a.body === 'p2', { attempts: 100, intervalMs: 10 });
    const ms = performance.now() - written;
    console.log(`[proxy-daemon] endpoint added -> traffic: ${ms.toFixed(0)} ms`);
    expect(answer.body).toBe('p2');
    expect(ms).toBeLessThan(1000);
  });

  it('stops sending traffic to a removed endpoint within a second of the API write', async () => {
    const web = await httpService('removed', pods[0] as Pod, pods[1] as Pod);
    await answers(web.get, 'p1');
    await web.setEndpoints(pods[1] as Pod);
    const written = performance.now();
    // The change took effect once ten answers in a row come from p2 (p1 still serves, so any rule left would show).
    let streak = 0;
    let streakStart = 0;
    for (let i = 0; i < 150 && streak < 10; i++) {
      const before = performance.now();
      const answer = await web.get();
      if (answer.body === 'p2') {
        if (streak === 0) streakStart = before;
        streak += 1;
      } else streak = 0;
    }
    const ms = streakStart - written;
    console.log(`[proxy-daemon] endpoint removed -> traffic: ${ms.toFixed(0)} ms`);
    expect(streak).toBe(10);
    expect(ms).toBeLessThan(1000);
  });

  it('rejects connections to a Service without endpoints at once', async () => {
    const ip = await service('empty', { ports: [{ name: 'http', port: 80, targetPort: HTTP_PORT }] });
    await apply(slice('empty-1', 'empty', [], { name: 'http', port: HTTP_PORT }));
    const answer = await pollUntil(() => httpGet(node, `http://${ip}/`, 2), (a) => a.code === 7, { attempts: 30, intervalMs: 100 });
    expect(answer.code).toBe(7); // connection refused: the REJECT, not a timeout
    expect(answer.ms).toBeLessThan(500);
  });

  it('serves healthCheckNodePort with the count of local endpoints: 200 with one, 503 with none', async () => {
    const created = await apply({
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'lb', namespace: 'default' },
      spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, targetPort: HTTP_PORT }] },
    });
    const port = (created.spec as { healthCheckNodePort: number }).healthCheckNodePort;
    expect(port).toBeGreaterThan(0);
    const url = `http://127.0.0.1:${port}/`;
    const status = (a: { body: string }) => (a.body.startsWith('{') ? (JSON.parse(a.body) as { localEndpoints: number }).localEndpoints : -1);
    await apply(slice('lb-1', 'lb', [{ pod: pods[2] as Pod, nodeName: NODE_NAME }], { name: 'http', port: HTTP_PORT }));
    const local = await pollUntil(() => run('curl', ['-sS', '-w', '\n%{http_code}', '--max-time', '1', url], { netns: node.path }), (r) => r.stdout.endsWith('\n200'), { attempts: 50, intervalMs: 100 });
    expect(local.stdout.split('\n')).toEqual([JSON.stringify({ service: { namespace: 'default', name: 'lb' }, localEndpoints: 1, serviceProxyHealthy: true }), '200']);
    await apply(slice('lb-1', 'lb', [{ pod: pods[2] as Pod, nodeName: 'node-b' }], { name: 'http', port: HTTP_PORT }));
    const remote = await pollUntil(() => run('curl', ['-sS', '-w', '\n%{http_code}', '--max-time', '1', url], { netns: node.path }), (r) => r.stdout.endsWith('\n503'), { attempts: 50, intervalMs: 100 });
    expect(status({ body: remote.stdout.split('\n')[0] ?? '' })).toBe(0);
    expect(remote.stdout.endsWith('\n503')).toBe(true);
  });

  it('moves a UDP client that keeps its source port to the new endpoint when its endpoint is replaced (conntrack cleanup)', async () => {
    const ip = await service('dns', { ports: [{ name: 'dns', port: 53, targetPort: UDP_PORT, protocol: 'UDP' }] });
    const dnsSlice = (pod: Pod) => apply(slice('dns-1', 'dns', [{ pod }], { name: 'dns', port: UDP_PORT, protocol: 'UDP' }));
    await dnsSlice(pods[0] as Pod);
    await pollUntil(() => udpConversation(node, { ip, port: 53 }, { sourcePort: 40001, count: 1, intervalMs: 50 }), (r) => r.length > 0, { attempts: 30, intervalMs: 100 });
    const conversation = udpConversation(node, { ip, port: 53 }, { sourcePort: 40000, count: 60, intervalMs: 50 });
    await new Promise((r) => setTimeout(r, 1000));
    await dnsSlice(pods[1] as Pod);
    const switched = Date.now();
    const replies = await conversation;
    const before = replies.filter(([t]) => t < switched).map(([, name]) => name);
    const after = replies.filter(([t]) => t > switched + 1000).map(([, name]) => name);
    expect(new Set(before)).toEqual(new Set(['p1']));
    expect(after.length).toBeGreaterThan(10);
    expect(new Set(after)).toEqual(new Set(['p2']));
  });

  it('keeps traffic flowing while kube-apiserver is down and honours a change made after it is back', async () => {
    const web = await httpService('outage', pods[0] as Pod);
    await answers(web.get, 'p1');
    await cp.stopApiServer();
    try {
      for (let i = 0; i < 5; i++) expect((await web.get()).body).toBe('p1');
    } finally {
      await cp.startApiServer();
    }
    await web.setEndpoints(pods[2] as Pod);
    const written = performance.now();
    // The watch reconnects with a bounded backoff (at most 5 s), then the change syncs.
    const answer = await pollUntil(web.get, (a) => a.body === 'p3', { attempts: 150, intervalMs: 100 });
    console.log(`[proxy-daemon] change after API server restart -> traffic: ${(performance.now() - written).toFixed(0)} ms`);
    expect(answer.body).toBe('p3');
  });

  it('fails no request of a 200-request loop while the proxy restarts', async () => {
    const web = await httpService('restart', pods[1] as Pod);
    await answers(web.get, 'p2');
    const script = `for i in $(seq 200); do curl -s -o /dev/null -w '%{http_code}\\n' --max-time 2 http://${web.ip}/; sleep 0.02; done`;
    const loop = runInBackground('bash', ['-c', script], { netns: node.path, timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 1000));
    proxyLog += await stopWeftProxy(proxy as Component);
    proxy = startWeftProxy(node, proxyArgs);
    const result = await loop.exited;
    const codes = result.stdout.trim().split('\n');
    expect(codes).toHaveLength(200);
    expect(codes.filter((c) => c !== '200')).toEqual([]);
    const health = await pollUntil(() => httpGet(node, `http://${HEALTHZ}/healthz`), (a) => a.body.includes('"healthy":true'), { attempts: 100, intervalMs: 200 });
    expect(health.body).toContain('"healthy":true');
    // The restarted proxy still follows changes.
    await web.setEndpoints(pods[0] as Pod);
    expect((await answers(web.get, 'p1')).body).toBe('p1');
  });

  it('stops answering a deleted Service, and syncs the next change on top of the deletion', async () => {
    const web = await httpService('deleted', pods[0] as Pod);
    await answers(web.get, 'p1');
    await cp.kubectl(['delete', 'service', 'deleted', '--namespace=default']);
    const deleted = performance.now();
    const answer = await pollUntil(() => web.get(0.3), (a) => a.code !== 0, { attempts: 50, intervalMs: 20 });
    console.log(`[proxy-daemon] service deleted -> no answer: ${(performance.now() - deleted).toFixed(0)} ms`);
    expect(answer.code).not.toBe(0);
    const next = await httpService('after-delete', pods[2] as Pod);
    expect((await answers(next.get, 'p3')).body).toBe('p3');
  });

  it('reads the same Services and EndpointSlices from its protobuf lists as from JSON lists', async () => {
    await apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'encodings-lb', namespace: 'default' },
      spec: {
        type: 'LoadBalancer',
        ports: [{ name: 'http', port: 80, targetPort: HTTP_PORT }, { name: 'dns', protocol: 'UDP', port: 53 }],
        externalTrafficPolicy: 'Local',
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
        loadBalancerSourceRanges: ['10.123.64.0/18'],
        externalIPs: ['10.123.9.9'],
      },
    });
    await cp.kubectl(['patch', 'service', 'encodings-lb', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: '10.123.8.8' }, { hostname: 'lb.test' }] } } })]);
    await service('encodings-local', { internalTrafficPolicy: 'Local', ports: [{ port: 81, targetPort: HTTP_PORT }] });
    await apply({
      ...slice('encodings-lb-1', 'encodings-lb', [{ pod: pods[0] as Pod, nodeName: NODE_NAME }], { name: 'http', port: HTTP_PORT }),
      endpoints: [
        { addresses: [(pods[0] as Pod).ip], conditions: { ready: false, serving: true, terminating: true }, nodeName: NODE_NAME },
        { addresses: [(pods[1] as Pod).ip] },
      ],
    });
    const listed = await run(process.execPath, [LIST_BOTH_ENCODINGS, await cp.createProxyCredentials(), NODE_NAME], { netns: node.path, timeoutMs: 30_000 });
    const result = JSON.parse(listed.stdout) as { contentTypes: string[]; protobuf: Record<string, Record<string, Json>>; json: Record<string, Record<string, Json>> };
    for (const type of result.contentTypes) expect(type).toMatch(/^application\/vnd\.kubernetes\.protobuf/);
    expect(result.protobuf).toEqual(result.json);
    const { services, slices } = result.protobuf as { services: Record<string, Json>; slices: Record<string, Json> };
    expect(services['default/encodings-lb']).toMatchObject({
      type: 'LoadBalancer',
      ports: [{ name: 'http', protocol: 'TCP', port: 80 }, { name: 'dns', protocol: 'UDP', port: 53 }],
      externalIPs: ['10.123.9.9'],
      loadBalancerIPs: ['10.123.8.8'],
      loadBalancerSourceRanges: ['10.123.64.0/18'],
      affinitySeconds: 60,
      externalTrafficLocal: true,
      internalTrafficLocal: false,
    });
    expect((services['default/encodings-lb']?.ports as { nodePort?: number }[]).every((p) => typeof p.nodePort === 'number')).toBe(true);
    expect(typeof services['default/encodings-lb']?.healthCheckNodePort).toBe('number');
    expect(services['default/encodings-local']).toMatchObject({ ports: [{ name: '', protocol: 'TCP', port: 81 }], internalTrafficLocal: true });
    expect(slices['default/encodings-lb-1']).toEqual({
      namespace: 'default',
      name: 'encodings-lb-1',
      serviceName: 'encodings-lb',
      ports: [{ name: 'http', protocol: 'TCP', port: HTTP_PORT }],
      endpoints: [
        { ip: (pods[0] as Pod).ip, ready: false, serving: true, terminating: true, nodeName: NODE_NAME },
        { ip: (pods[1] as Pod).ip, ready: true, serving: true, terminating: false },
      ],
    });
    await cp.kubectl(['delete', 'service', 'encodings-lb', 'encodings-local']);
    await cp.kubectl(['delete', 'endpointslice', 'encodings-lb-1']);
  });

  it(`answers /healthz and /metrics only on the flagged addresses, with kube-proxy's ${PROXY_MODE} metric names`, async () => {
    const web = await httpService('metrics', pods[0] as Pod);
    await answers(web.get, 'p1');
    await web.setEndpoints(pods[1] as Pod);
    await answers(web.get, 'p2');
    const healthz = await httpGet(node, `http://${HEALTHZ}/healthz`);
    expect(healthz.code).toBe(0);
    expect(JSON.parse(healthz.body)).toMatchObject({ healthy: true, nodeEligible: true });
    expect((await httpGet(node, `http://${HEALTHZ}/livez`)).code).toBe(0);
    expect((await httpGet(node, `http://${NODE_IP}:10256/healthz`)).code).toBe(7);
    const metrics = await httpGet(node, `http://${METRICS}/metrics`);
    expect(metrics.code).toBe(0);
    const family = '\\{ip_family="IPv4"\\}';
    expect(metrics.body).toMatch(new RegExp(`^kubeproxy_sync_full_proxy_rules_duration_seconds_count${family} [1-9]`, 'm'));
    expect(metrics.body).toMatch(new RegExp(`^kubeproxy_sync_partial_proxy_rules_duration_seconds_count${family} [1-9]`, 'm'));
    expect(metrics.body).toMatch(new RegExp(`^kubeproxy_network_programming_duration_seconds_count${family} [1-9]`, 'm'));
    expect(metrics.body).toMatch(/^process_resident_memory_bytes [1-9]/m);
    expect(metrics.body).toMatch(/^nodejs_heap_size_used_bytes [1-9]/m);
    if (PROXY_MODE === 'iptables') {
      expect(metrics.body).toMatch(/^kubeproxy_sync_proxy_rules_iptables_total\{table="nat",ip_family="IPv4"\} [1-9]/m);
      expect(metrics.body).toMatch(new RegExp(`^kubeproxy_sync_proxy_rules_iptables_restore_failures_total${family} 0$`, 'm'));
    } else {
      expect(metrics.body).toMatch(new RegExp(`^kubeproxy_sync_proxy_rules_nftables_sync_failures_total${family} 0$`, 'm'));
      expect(metrics.body).not.toContain('iptables');
    }
    expect((await httpGet(node, 'http://127.0.0.1:10249/metrics')).code).toBe(7);
  });
});
