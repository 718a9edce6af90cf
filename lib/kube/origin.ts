import { existsSync } from 'node:fs';

// Which source of API credentials applies, without loading the Kubernetes client (~600 ms): the
// troubleshooting commands ask before deciding to load it at all.

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
