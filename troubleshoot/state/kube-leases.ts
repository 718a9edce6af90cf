import { readFileSync } from 'node:fs';
import { CoreV1Api } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../lib/kube/config.ts';
import { leaseId } from '../../plugins/vxlan/lease.ts';
import { parseNetworkConfig } from '../../plugins/vxlan/network-config.ts';
import { leasesFromNodes, nodePodCidr } from '../../plugins/vxlan/node-annotations.ts';
import { formatIpv4Cidr } from '../../lib/ip.ts';
import type { WeftdArgs } from '../../plugins/vxlan/weftd-args.ts';
import type { LeaseView } from './leases.ts';

// --kube-subnet-mgr leases: every Node's podCIDR and weft annotations, with weftd's own credentials
// and network config file. Loaded only on that path: the Kubernetes client costs ~600 ms to import.

export async function readKubeLeases(args: WeftdArgs): Promise<LeaseView> {
  const choice = args.subnetManager;
  if (choice.kind !== 'kube') throw new Error('not kube');
  const network = parseNetworkConfig(readFileSync(choice.netConfigPath, 'utf8'));
  const api = loadKubeConfig({ kubeconfig: choice.kubeconfigFile }).makeApiClient(CoreV1Api);
  const nodes = (await api.listNode()).items;
  const own = nodes.find((n) => n.metadata?.name === choice.nodeName);
  const podCidr = own ? nodePodCidr(own) : undefined;
  const leases = [...leasesFromNodes(nodes, network.network).values()].sort((a, b) => leaseId(a).localeCompare(leaseId(b)));
  return { source: 'kube', network, leases, node: { name: choice.nodeName, ...(podCidr ? { podCidr: formatIpv4Cidr(podCidr) } : {}) } };
}
