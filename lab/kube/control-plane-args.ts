import type { KeyPair } from './pki.ts';

// Command lines for a control plane, as hack/local-up-cluster.sh runs it: etcd on loopback
// (plain HTTP), the API server on one chosen address with TLS, no cloud provider, no leader election.

export const SERVICE_CIDR = '10.96.0.0/16';
/** The first service address: the `kubernetes` Service, and a name the serving certificate must carry. */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const CLUSTER_CIDR = '10.244.0.0/16';
export const NODE_CIDR_MASK = 24;
const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/**
 * Controllers: everything on by default, except the node lifecycle controller. Test Nodes have no kubelet
 * posting status, so it would mark them unreachable after 40 s and flip every Pod on them to not ready,
 * emptying the EndpointSlices under a long benchmark.
 */
export const DEFAULT_CONTROLLERS = ['*', '-node-lifecycle-controller'] as const;

const loopbackUrl = (scheme: string, port: number) => `${scheme}://127.0.0.1:${port}`;

export interface EtcdArgsOptions {
  dataDir: string;
  clientPort: number;
  peerPort: number;
}

export function etcdUrl(clientPort: number): string {
  return loopbackUrl('http', clientPort);
}

export function etcdArgs(options: EtcdArgsOptions): string[] {
  const peer = loopbackUrl('http', options.peerPort);
  return [
    '--name=weft-test',
    `--data-dir=${options.dataDir}`,
    `--listen-client-urls=${etcdUrl(options.clientPort)}`,
    `--advertise-client-urls=${etcdUrl(options.clientPort)}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=weft-test=${peer}`,
    '--logger=zap',
    '--log-level=warn',
  ];
}

export interface ApiserverArgsOptions {
  etcdUrl: string;
  /** IPv4 address the API server binds to and advertises as the `kubernetes` Service endpoint. */
  address: string;
  port: number;
  ca: KeyPair;
  serving: KeyPair;
  kubeletClient: KeyPair;
  serviceAccount: KeyPair;
  extraArgs?: readonly string[];
}

export function apiserverArgs(options: ApiserverArgsOptions): string[] {
  return [
    `--etcd-servers=${options.etcdUrl}`,
    `--bind-address=${options.address}`,
    `--advertise-address=${options.address}`,
    `--secure-port=${options.port}`,
    // Validation rejects a loopback address as the `kubernetes` endpoint, so on loopback nothing is published.
    ...(options.address.startsWith('127.') ? ['--endpoint-reconciler-type=none'] : []),
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--authorization-mode=Node,RBAC',
    `--client-ca-file=${options.ca.cert}`,
    `--tls-cert-file=${options.serving.cert}`,
    `--tls-private-key-file=${options.serving.key}`,
    `--kubelet-certificate-authority=${options.ca.cert}`,
    `--kubelet-client-certificate=${options.kubeletClient.cert}`,
    `--kubelet-client-key=${options.kubeletClient.key}`,
    `--service-account-key-file=${options.serviceAccount.cert}`,
    `--service-account-signing-key-file=${options.serviceAccount.key}`,
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    '--allow-privileged=true',
    '--profiling=false',
    ...(options.extraArgs ?? []),
  ];
}

export interface ControllerManagerArgsOptions {
  kubeconfig: string;
  ca: KeyPair;
  serviceAccount: KeyPair;
  controllers?: readonly string[];
  extraArgs?: readonly string[];
}

export function controllerManagerArgs(options: ControllerManagerArgsOptions): string[] {
  return [
    `--kubeconfig=${options.kubeconfig}`,
    // No health/metrics listener: nothing in the tests reads it, and it would bind a fixed port.
    '--secure-port=0',
    '--leader-elect=false',
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${options.serviceAccount.key}`,
    `--root-ca-file=${options.ca.cert}`,
    `--cluster-signing-cert-file=${options.ca.cert}`,
    `--cluster-signing-key-file=${options.ca.key}`,
    `--controllers=${(options.controllers ?? DEFAULT_CONTROLLERS).join(',')}`,
    '--allocate-node-cidrs=true',
    `--cluster-cidr=${CLUSTER_CIDR}`,
    `--node-cidr-mask-size=${NODE_CIDR_MASK}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--profiling=false',
    ...(options.extraArgs ?? []),
  ];
}

/** The lab cluster runs every controller: its Nodes have kubelets, so node lifecycle (not-ready taints) matters. */
export const LAB_CONTROLLERS = ['*'] as const;

/** What the lab's API server adds to apiserverArgs, as kubeadm runs it. */
export const LAB_APISERVER_EXTRA_ARGS = [
  // Kubelets may only write their own Node and its Pods.
  '--enable-admission-plugins=NodeRestriction',
  // Nodes are reached by the InternalIP they registered: their hostnames resolve only on the nodes.
  '--kubelet-preferred-address-types=InternalIP',
] as const;

export function schedulerArgs(options: { kubeconfig: string }): string[] {
  return [
    `--kubeconfig=${options.kubeconfig}`,
    // No health/metrics listener, as for the controller manager.
    '--secure-port=0',
    '--leader-elect=false',
    '--profiling=false',
  ];
}
