import { run, type RunResult } from '../../lib/exec.ts';

// The kubectl plugin talks to the cluster through kubectl itself (its credentials, its exec
// transport): `kubectl get -o json` for objects, `kubectl exec` into weft-node Pods. $KUBECTL names
// another binary; --kubeconfig and --context are passed on.

export interface KubectlOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
}

const EXEC_TIMEOUT_MS = 120_000;

export class Kubectl {
  readonly #binary: string;
  readonly #global: readonly string[];

  constructor(options: KubectlOptions, env: NodeJS.ProcessEnv = process.env) {
    this.#binary = env.KUBECTL || 'kubectl';
    this.#global = [...(options.kubeconfig ? [`--kubeconfig=${options.kubeconfig}`] : []), ...(options.context ? [`--context=${options.context}`] : [])];
  }

  async run(args: readonly string[]): Promise<RunResult> {
    return run(this.#binary, [...this.#global, ...args], { timeoutMs: EXEC_TIMEOUT_MS }).catch((error: Error) => ({ code: 127, stdout: '', stderr: `cannot run ${this.#binary}: ${error.message}` }));
  }

  /** `kubectl get ARGS -o json`, parsed; undefined when the object does not exist. */
  async getJson(args: readonly string[]): Promise<unknown> {
    const result = await this.run(['get', ...args, '-o', 'json']);
    if (result.code !== 0) {
      if (/NotFound|not found/.test(result.stderr)) return undefined;
      throw new Error(`cannot read from the cluster: kubectl get ${args.join(' ')}: ${firstLine(result.stderr)}`);
    }
    return JSON.parse(result.stdout);
  }

  exec(namespace: string, pod: string, container: string, argv: readonly string[]): Promise<RunResult> {
    return this.run(['exec', '-n', namespace, pod, '-c', container, '--', ...argv]);
  }
}

export function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
