import { KubeConfig } from '@kubernetes/client-node';
import { kubeConfigOrigin, type KubeConfigSource } from './origin.ts';

// Where a daemon's API credentials come from, shared by weft-proxy and weftd: an explicit kubeconfig
// file, else the in-cluster service account (a DaemonSet pod), else $KUBECONFIG / ~/.kube/config.
// Importing @kubernetes/client-node costs ~600 ms: only daemon modules may import this file.

export function loadKubeConfig(source: KubeConfigSource = {}): KubeConfig {
  const config = new KubeConfig();
  const origin = kubeConfigOrigin(source);
  try {
    if (origin === 'file') config.loadFromFile(source.kubeconfig as string);
    else if (origin === 'in-cluster') config.loadFromCluster();
    else config.loadFromDefault();
  } catch (error) {
    const what = origin === 'file' ? `kubeconfig "${source.kubeconfig}"` : `${origin} credentials`;
    throw new Error(`cannot load ${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (!config.getCurrentCluster()) throw new Error(`cannot use ${origin === 'file' ? `kubeconfig "${source.kubeconfig}"` : `${origin} credentials`}: no current cluster`);
  return config;
}
