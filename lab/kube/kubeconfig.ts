import { writeFileSync } from 'node:fs';
import type { KeyPair } from './pki.ts';

// A kubeconfig for one user of one cluster, written as JSON (which kubectl and every client-go reads as YAML).

export interface KubeconfigSpec {
  server: string;
  caFile: string;
  user: string;
  credentials: KeyPair;
}

export function renderKubeconfig(spec: KubeconfigSpec): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'weft-test', cluster: { server: spec.server, 'certificate-authority': spec.caFile } }],
    users: [{ name: spec.user, user: { 'client-certificate': spec.credentials.cert, 'client-key': spec.credentials.key } }],
    contexts: [{ name: 'weft-test', context: { cluster: 'weft-test', user: spec.user } }],
    'current-context': 'weft-test',
  };
  return JSON.stringify(config, null, 2) + '\n';
}

export function writeKubeconfig(file: string, spec: KubeconfigSpec): string {
  writeFileSync(file, renderKubeconfig(spec), { mode: 0o600 });
  return file;
}
