import { CoreV1Api } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../lib/kube/config.ts';
import { requireCredentials } from './credentials.ts';
import type { Lookup } from './resolve-target.ts';

// Name lookups for `weft explain` run on a node: the Kubernetes client with an explicit kubeconfig,
// the Pod's service account, or $KUBECONFIG / ~/.kube/config. Imported only when a target is a name
// (the client costs ~600 ms to load).

function status(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function apiLookup(kubeconfig: string | undefined): Lookup {
  requireCredentials(kubeconfig);
  const api = loadKubeConfig(kubeconfig !== undefined ? { kubeconfig } : {}).makeApiClient(CoreV1Api);
  return async (kind, namespace, name) => {
    try {
      if (kind === 'pod') return await api.readNamespacedPod({ name, namespace: namespace ?? 'default' });
      if (kind === 'service') return await api.readNamespacedService({ name, namespace: namespace ?? 'default' });
      return await api.readNode({ name });
    } catch (error) {
      if (status(error) === 404) return undefined;
      throw new Error(`cannot read ${kind} "${namespace ? `${namespace}/` : ''}${name}": ${status(error) !== undefined ? `HTTP ${status(error)}` : error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  };
}
