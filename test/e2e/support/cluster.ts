import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, Exec, KubeConfig, type V1Node, type V1Pod, type V1Service } from '@kubernetes/client-node';

// The cluster the e2e cases run against: whatever KUBECONFIG names (the lab cluster here, kind for users
// with Docker). Every case works in a namespace of its own, made and deleted by it; traffic is sent from
// inside the cluster (exec in a Pod), so nothing depends on how the machine running the tests reaches it.

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class E2eCluster {
  readonly config: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  private readonly exec: Exec;

  constructor() {
    if (!process.env.KUBECONFIG) throw new Error('cannot run the e2e tests: KUBECONFIG does not name a cluster');
    this.config = new KubeConfig();
    this.config.loadFromDefault();
    this.core = this.config.makeApiClient(CoreV1Api);
    this.apps = this.config.makeApiClient(AppsV1Api);
    this.exec = new Exec(this.config);
  }

  /** Nodes Pods can be scheduled on (no NoSchedule taint), by name, with their InternalIP. */
  async schedulableNodes(): Promise<{ name: string; ip: string }[]> {
    const nodes = (await this.core.listNode()).items.filter((n) => !(n.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute'));
    return nodes.map((n) => ({ name: n.metadata?.name as string, ip: internalIp(n) }));
  }

  async allNodes(): Promise<{ name: string; ip: string }[]> {
    return (await this.core.listNode()).items.map((n) => ({ name: n.metadata?.name as string, ip: internalIp(n) }));
  }

  /** Waits until every other e2e namespace is gone: their Services lose endpoints while they terminate. */
  async waitOtherTestNamespacesGone(own: string, timeoutMs = 180_000): Promise<void> {
    await waitUntil('earlier e2e namespaces to be deleted', async () => {
      const left = (await this.core.listNamespace({ labelSelector: 'weft.dev/e2e=true' })).items.filter((n) => n.metadata?.name !== own);
      return left.length === 0;
    }, timeoutMs, 2_000);
  }

  async createNamespace(purpose: string): Promise<TestNamespace> {
    const name = `weft-e2e-${purpose}-${randomBytes(3).toString('hex')}`;
    await this.core.createNamespace({ body: { metadata: { name, labels: { 'weft.dev/e2e': 'true' } } } });
    // Pods cannot be created before the namespace's default ServiceAccount exists.
    await waitUntil(`ServiceAccount ${name}/default`, async () => (await this.core.readNamespacedServiceAccount({ name: 'default', namespace: name }).catch(() => undefined)) !== undefined, 60_000);
    return new TestNamespace(this, name);
  }

  async run(namespace: string, pod: string, command: readonly string[], container?: string): Promise<ExecResult> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const sink = (into: Buffer[]) => new Writable({ write: (chunk: Buffer, _e, done) => (into.push(chunk), done()) });
    return new Promise<ExecResult>((resolve, reject) => {
      this.exec
        .exec(namespace, pod, container ?? '', [...command], sink(out), sink(err), null, false, (status) => {
          const code = status.status === 'Success' ? 0 : Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message ?? 1);
          // The status arrives before the last output frames are flushed: let them land.
          setTimeout(() => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }), 50);
        })
        .then((ws) => ws.on('error', reject), reject);
    });
  }
}

function internalIp(node: V1Node): string {
  const address = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!address) throw new Error(`cannot use node "${node.metadata?.name}": it has no InternalIP`);
  return address;
}

export async function waitUntil<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function podReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export class TestNamespace {
  readonly cluster: E2eCluster;
  readonly name: string;

  constructor(cluster: E2eCluster, name: string) {
    this.cluster = cluster;
    this.name = name;
  }

  async createPod(pod: V1Pod): Promise<void> {
    await this.cluster.core.createNamespacedPod({ namespace: this.name, body: pod });
  }

  async createService(svc: V1Service): Promise<V1Service> {
    return this.cluster.core.createNamespacedService({ namespace: this.name, body: svc });
  }

  /** Waits until the Pod is Ready; on timeout says what its status and events show. */
  async readyPod(name: string, timeoutMs = 120_000): Promise<V1Pod> {
    try {
      return await waitUntil(`Pod ${this.name}/${name} to be Ready`, async () => {
        const pod = await this.cluster.core.readNamespacedPod({ name, namespace: this.name });
        return podReady(pod) ? pod : undefined;
      }, timeoutMs);
    } catch (error) {
      const pod = await this.cluster.core.readNamespacedPod({ name, namespace: this.name }).catch(() => undefined);
      const events = await this.cluster.core.listNamespacedEvent({ namespace: this.name, fieldSelector: `involvedObject.name=${name}` }).catch(() => undefined);
      const why = [JSON.stringify(pod?.status?.containerStatuses ?? pod?.status?.conditions ?? 'no status'), ...(events?.items ?? []).map((e) => `${e.reason}: ${e.message}`)];
      throw new Error(`${(error as Error).message}\n${why.join('\n')}`);
    }
  }

  /** Creates the Pods and waits until all are Ready; returns them (with their IPs). */
  async startPods(pods: readonly V1Pod[]): Promise<V1Pod[]> {
    for (const pod of pods) await this.createPod(pod);
    return Promise.all(pods.map((p) => this.readyPod(p.metadata?.name as string)));
  }

  /** Ready endpoints the EndpointSlices of a Service list, across all its slices. */
  async readyEndpoints(service: string): Promise<string[]> {
    const discovery = this.cluster.config.makeApiClient(DiscoveryV1Api);
    const slices = await discovery.listNamespacedEndpointSlice({ namespace: this.name, labelSelector: `kubernetes.io/service-name=${service}` });
    return slices.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready).flatMap((e) => e.addresses));
  }

  async waitEndpoints(service: string, count: number, timeoutMs = 60_000): Promise<string[]> {
    return waitUntil(`${count} ready endpoint(s) of Service ${this.name}/${service}`, async () => {
      const ready = await this.readyEndpoints(service);
      return ready.length === count ? ready : undefined;
    }, timeoutMs);
  }

  run(pod: string, command: readonly string[]): Promise<ExecResult> {
    return this.cluster.run(this.name, pod, command);
  }

  /** Runs a shell command in a Pod and returns its stdout; throws with its output on a non-zero exit. */
  async sh(pod: string, script: string): Promise<string> {
    const result = await this.run(pod, ['sh', '-c', script]);
    if (result.code !== 0) throw new Error(`"${script}" in ${this.name}/${pod} exited ${result.code}: ${result.stderr || result.stdout}`);
    return result.stdout;
  }

  async delete(): Promise<void> {
    await this.cluster.core.deleteNamespace({ name: this.name }).catch(() => undefined);
  }
}

/** HTTP GET from inside a Pod (curl, bounded): the body, or undefined when it failed. */
export async function httpGet(ns: TestNamespace, fromPod: string, url: string): Promise<string | undefined> {
  const result = await ns.run(fromPod, ['curl', '-sS', '--max-time', '3', '--connect-timeout', '2', url]);
  return result.code === 0 ? result.stdout.trim() : undefined;
}

/**
 * One UDP request relayed by netexec's /dial in `fromPod` (as the upstream conformance tests do):
 * the responses, or an empty list when nothing answered.
 */
export async function udpRequest(ns: TestNamespace, fromPod: string, target: { host: string; port: number }, options: { request?: string; dialPort?: number } = {}): Promise<string[]> {
  const request = encodeURIComponent(options.request ?? 'hostname');
  const url = `http://127.0.0.1:${options.dialPort ?? 8080}/dial?request=${request}&protocol=udp&host=${target.host}&port=${target.port}&tries=1`;
  const body = await httpGet(ns, fromPod, url);
  if (!body) return [];
  return (JSON.parse(body) as { responses?: string[] }).responses ?? [];
}

/** The first two of a list (two schedulable nodes: the cases compare same-node and cross-node paths). */
export function firstTwo<T>(items: readonly T[]): [T, T] {
  const [a, b] = items;
  if (a === undefined || b === undefined) throw new Error(`cannot pick two: only ${items.length} available`);
  return [a, b];
}

/**
 * Waits until a URL answers from a Pod: a Service created a moment ago is programmed on every node within
 * about a second (the proxies' minimum sync period), so the first request may come too early.
 */
export function waitServing(ns: TestNamespace, fromPod: string, url: string, timeoutMs = 30_000): Promise<string> {
  return waitUntil(`${url} to answer from ${ns.name}/${fromPod}`, () => httpGet(ns, fromPod, url), timeoutMs);
}
