import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runChecked } from '../../lib/exec.ts';
import { K8S_BINARIES, TOOLS_DIR, k8sBinDir, pinnedVersion } from '../../scripts/k8s-tools.ts';
import { firstExited, probeHealth as probe, startComponent, stopComponent, waitUntilReady, type Component } from './component-process.ts';
import { KUBERNETES_SERVICE_IP, apiserverArgs, controllerManagerArgs, etcdArgs, etcdUrl } from './control-plane-args.ts';
import { freeLoopbackPort } from './free-port.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { Pki } from './pki.ts';

// A real Kubernetes control plane for tests: Debian's etcd, and kube-apiserver and kube-controller-manager
// built by scripts/install-k8s.ts. By default everything listens on 127.0.0.1 of the caller's namespace
// and touches no interface. Processes in other namespaces (a kube-proxy on a test node) cannot reach that
// loopback, so `netns` + `address` run the whole control plane inside a namespace the test created, serving
// on an address of it. Certificates, data and kubeconfigs live in one 0700 temp dir removed on close.

const ETCD = '/usr/bin/etcd';
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,50}[a-z0-9])?$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export interface ControlPlaneOptions {
  /** Directory holding kube-apiserver, kube-controller-manager and kubectl; defaults to the pinned install. */
  binDir?: string;
  /** Run every component (and kubectl) inside this network namespace (a path such as /var/run/netns/NAME). */
  netns?: string;
  /** IPv4 address the API server binds to and advertises; 127.0.0.1 by default. */
  address?: string;
  /** kube-controller-manager --controllers list (see DEFAULT_CONTROLLERS). */
  controllers?: readonly string[];
  apiserverArgs?: readonly string[];
  controllerManagerArgs?: readonly string[];
  readyTimeoutMs?: number;
  /** Progress lines; stderr by default. */
  log?: (line: string) => void;
}

export interface ControlPlane {
  version: string;
  /** https://ADDRESS:PORT */
  server: string;
  /** Admin kubeconfig (O=system:masters), 0600. */
  kubeconfig: string;
  caFile: string;
  binDir: string;
  /** etcd's loopback client URL (plain HTTP, inside the control plane's namespace). */
  etcdUrl: string;
  /** Runs kubectl (as admin unless another kubeconfig is given) and resolves with its stdout; rejects on a non-zero exit. */
  kubectl(args: readonly string[], options?: { input?: string; kubeconfig?: string }): Promise<string>;
  /** A kubeconfig for a node's agents: CN system:node:NAME, O system:nodes (the Node authorizer scopes it). */
  createNodeCredentials(nodeName: string): Promise<string>;
  /** A kubeconfig for a service proxy: CN system:kube-proxy, bound by default to ClusterRole system:node-proxier. */
  createProxyCredentials(): Promise<string>;
  /** Stops kube-apiserver (etcd and the controller manager keep running): clients see the API go away. */
  stopApiServer(): Promise<void>;
  /** Starts kube-apiserver again with the same arguments and waits until it is ready. */
  startApiServer(): Promise<void>;
  /** Stops every process and removes the temp dir; safe to call twice. */
  close(): Promise<void>;
}

/** The pinned version and its binary directory, or why the control plane cannot start here. */
export function findK8sBinaries(): { version: string; binDir: string } | { missing: string } {
  const version = pinnedVersion(readFileSync(join(TOOLS_DIR, 'go.mod'), 'utf8'));
  const binDir = k8sBinDir(version);
  const absent = K8S_BINARIES.filter((b) => !existsSync(join(binDir, b)));
  if (absent.length > 0) return { missing: `Kubernetes ${version} binaries not installed in ${binDir} (${absent.join(', ')}): run "npx node scripts/install-k8s.ts"` };
  if (!existsSync(ETCD)) return { missing: `etcd not installed at ${ETCD}: apt-get install etcd-server` };
  return { version, binDir };
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const found = findK8sBinaries();
  if ('missing' in found) throw new Error(`cannot start the control plane: ${found.missing}`);
  const address = options.address ?? '127.0.0.1';
  if (!IPV4.test(address)) throw new Error(`cannot start the control plane: address "${address}" is not IPv4`);
  const { netns } = options;
  const binDir = options.binDir ?? found.binDir;
  const started = Date.now();
  const emit = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log = (line: string) => emit(`[control-plane ${((Date.now() - started) / 1000).toFixed(1)} s] ${line}`);

  const dir = mkdtempSync(join(tmpdir(), 'weft-control-plane-'));
  const components: Component[] = [];
  const wait = { died: firstExited(components), timeoutMs: options.readyTimeoutMs ?? 90_000, log };
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    // Reverse start order: controllers first, etcd last, so nothing logs a storm of connection errors.
    for (const component of components.splice(0).reverse()) await stopComponent(component);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const pkiDir = join(dir, 'pki');
    mkdirSync(pkiDir, { mode: 0o700 });
    const pki = await Pki.create(pkiDir);
    const serving = await pki.issue({
      name: 'apiserver',
      commonName: 'kube-apiserver',
      usage: 'server',
      altNames: [...new Set([address, '127.0.0.1', KUBERNETES_SERVICE_IP]), 'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    });
    const kubeletClient = await pki.issue({ name: 'apiserver-kubelet-client', commonName: 'kube-apiserver-kubelet-client', organization: 'system:masters', usage: 'client' });
    const serviceAccount = await pki.keyPair('service-account');

    const [etcdClientPort, etcdPeerPort, apiserverPort] = [await freeLoopbackPort(), await freeLoopbackPort(), await freeLoopbackPort()] as [number, number, number];
    const server = `https://${address}:${apiserverPort}`;
    const clientKubeconfig = async (name: string, commonName: string, organization?: string) =>
      writeKubeconfig(join(dir, `${name}.kubeconfig`), {
        server,
        caFile: pki.ca.cert,
        user: commonName,
        credentials: await pki.issue({ name, commonName, organization, usage: 'client' }),
      });
    const kubeconfig = await clientKubeconfig('admin', 'kubernetes-admin', 'system:masters');
    const controllerManagerKubeconfig = await clientKubeconfig('controller-manager', 'system:kube-controller-manager');
    log('certificates ready');

    const dataDir = join(dir, 'etcd');
    mkdirSync(dataDir, { mode: 0o700 });
    components.push(startComponent('etcd', ETCD, etcdArgs({ dataDir, clientPort: etcdClientPort, peerPort: etcdPeerPort }), { netns }));
    await waitUntilReady('etcd', () => probe(`${etcdUrl(etcdClientPort)}/health`, { netns }), wait);
    log(`etcd ready on ${etcdUrl(etcdClientPort)}`);

    const apiserver = apiserverArgs({
      etcdUrl: etcdUrl(etcdClientPort), address, port: apiserverPort, ca: pki.ca, serving, kubeletClient, serviceAccount, extraArgs: options.apiserverArgs,
    });
    const startApiServer = async () => {
      components.push(startComponent('kube-apiserver', join(binDir, 'kube-apiserver'), apiserver, { netns }));
      await waitUntilReady('kube-apiserver', () => probe(`${server}/readyz?verbose`, { ca: pki.ca.cert, netns }), wait);
      log(`kube-apiserver ready on ${server}`);
    };
    const stopApiServer = async () => {
      const index = components.findIndex((c) => c.name === 'kube-apiserver');
      if (index >= 0) await stopComponent(components.splice(index, 1)[0] as Component);
    };
    await startApiServer();

    const kubectl = async (args: readonly string[], opts: { input?: string; kubeconfig?: string } = {}) =>
      (await runChecked(join(binDir, 'kubectl'), [`--kubeconfig=${opts.kubeconfig ?? kubeconfig}`, ...args], { input: opts.input, netns })).stdout;

    const controllerManager = controllerManagerArgs({
      kubeconfig: controllerManagerKubeconfig, ca: pki.ca, serviceAccount, controllers: options.controllers, extraArgs: options.controllerManagerArgs,
    });
    components.push(startComponent('kube-controller-manager', join(binDir, 'kube-controller-manager'), controllerManager, { netns }));
    // The service-account controller creating default/default proves the controller manager runs with its
    // credentials, and Pods cannot be created before it exists.
    await waitUntilReady('kube-controller-manager', async () => {
      const result = await run(join(binDir, 'kubectl'), [`--kubeconfig=${kubeconfig}`, 'get', 'serviceaccount', 'default', '--namespace=default', '-o', 'name'], { netns });
      return result.code === 0 || `no ServiceAccount default/default yet (${result.stderr.trim()})`;
    }, wait);
    log('kube-controller-manager ready');

    return {
      version: found.version,
      server,
      kubeconfig,
      caFile: pki.ca.cert,
      binDir,
      etcdUrl: etcdUrl(etcdClientPort),
      kubectl,
      createNodeCredentials: (nodeName) => {
        if (!DNS_LABEL.test(nodeName)) throw new Error(`cannot create node credentials: "${nodeName}" is not a DNS label`);
        return clientKubeconfig(`node-${nodeName}`, `system:node:${nodeName}`, 'system:nodes');
      },
      createProxyCredentials: () => clientKubeconfig('kube-proxy', 'system:kube-proxy'),
      stopApiServer,
      startApiServer,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
