import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KUBERNETES_SERVICE_IP } from './control-plane-args.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { Pki, type KeyPair } from './pki.ts';
import { API_SERVER_PORT, type LabTopology, type NodePlan } from './topology.ts';

// Every certificate and kubeconfig of a lab cluster, as kubeadm lays them out: one CA, the API server's
// serving certificate (naming the control-plane node as kubeadm does, so kind-style manifests reach it by
// name), client certificates per component and per node. Valid a year: a user may keep the cluster.

const DAYS = 365;

export interface LabCredentials {
  dir: string;
  pki: Pki;
  ca: KeyPair;
  apiserver: KeyPair;
  kubeletClient: KeyPair;
  serviceAccount: KeyPair;
  /** https://<control-plane IP>:6443 */
  server: string;
  kubeconfigs: { admin: string; controllerManager: string; scheduler: string };
}

export function apiServerNames(topology: LabTopology): string[] {
  return [
    topology.controlPlane.ip,
    '127.0.0.1',
    KUBERNETES_SERVICE_IP,
    topology.controlPlane.name,
    'localhost',
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
  ];
}

export async function issueLabCredentials(topology: LabTopology): Promise<LabCredentials> {
  const dir = join(topology.stateDir, 'pki');
  mkdirSync(dir, { mode: 0o700 });
  const pki = await Pki.create(dir, { days: DAYS });
  const server = `https://${topology.controlPlane.ip}:${API_SERVER_PORT}`;
  const client = async (name: string, commonName: string, organization?: string) =>
    writeKubeconfig(join(dir, `${name}.kubeconfig`), { server, caFile: pki.ca.cert, user: commonName, credentials: await pki.issue({ name, commonName, organization, usage: 'client' }) });
  return {
    dir,
    pki,
    ca: pki.ca,
    apiserver: await pki.issue({ name: 'apiserver', commonName: 'kube-apiserver', usage: 'server', altNames: apiServerNames(topology) }),
    kubeletClient: await pki.issue({ name: 'apiserver-kubelet-client', commonName: 'kube-apiserver-kubelet-client', organization: 'system:masters', usage: 'client' }),
    serviceAccount: await pki.keyPair('service-account'),
    server,
    kubeconfigs: {
      admin: await client('admin', 'kubernetes-admin', 'system:masters'),
      controllerManager: await client('controller-manager', 'system:kube-controller-manager'),
      scheduler: await client('scheduler', 'system:kube-scheduler'),
    },
  };
}

export interface NodeCredentials {
  client: KeyPair;
  serving: KeyPair;
}

/** The kubelet's client certificate (the Node authorizer's system:node:NAME) and its serving certificate. */
export async function issueNodeCredentials(pki: Pki, node: NodePlan): Promise<NodeCredentials> {
  return {
    client: await pki.issue({ name: `kubelet-client-${node.name}`, commonName: `system:node:${node.name}`, organization: 'system:nodes', usage: 'client' }),
    serving: await pki.issue({ name: `kubelet-${node.name}`, commonName: node.name, usage: 'server', altNames: [node.ip, node.name] }),
  };
}
