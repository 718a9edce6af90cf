import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { kubeConfigOrigin } from '../../lib/kube/origin.ts';
import { UsageError } from '../cli/args.ts';

// Whether there are any Kubernetes credentials to use, before anything tries them: an explicit file,
// a Pod's service account, $KUBECONFIG, or ~/.kube/config. Without any, one clear error.

export function requireCredentials(kubeconfig: string | undefined, env: NodeJS.ProcessEnv = process.env): void {
  if (kubeconfig !== undefined) {
    if (!existsSync(kubeconfig)) throw new UsageError(`cannot read kubeconfig "${kubeconfig}": no such file`);
    return;
  }
  if (kubeConfigOrigin({ env }) === 'in-cluster') return;
  const files = (env.KUBECONFIG ?? '').split(':').filter(Boolean);
  if (files.some((f) => existsSync(f)) || existsSync(join(env.HOME ?? homedir(), '.kube', 'config'))) return;
  throw new UsageError('cannot reach Kubernetes: no kubeconfig (give --kubeconfig FILE, set KUBECONFIG, or run inside a Pod with a service account)');
}
