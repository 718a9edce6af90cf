import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

// Where a daemon's API credentials come from, shared by weft-proxy and weftd: an explicit kubeconfig
// file, else the in-cluster service account (a DaemonSet pod), else $KUBECONFIG / ~/.kube/config.
// Importing @kubernetes/client-node costs ~600 ms: only daemon modules may import this file.

/** The service account files every pod gets (the same path client-go reads). */
export const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface KubeConfigSource {
  /** A kubeconfig file (--kubeconfig); empty or undefined picks in-cluster or the default. */
  readonly kubeconfig?: string;
  /** Environment to read KUBERNETES_SERVICE_HOST/PORT from; process.env by default. */
  readonly env?: NodeJS.ProcessEnv;
}

export type KubeConfigOrigin = 'file' | 'in-cluster' | 'default';

/** Which source loadKubeConfig uses: pure apart from one existsSync, so the choice is testable. */
export function kubeConfigOrigin(source: KubeConfigSource, tokenExists: (path: string) => boolean = existsSync): KubeConfigOrigin {
  if (source.kubeconfig) return 'file';
  const env = source.env ?? process.env;
  return env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && tokenExists(IN_CLUSTER_TOKEN) ? 'in-cluster' : 'default';
}

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
