import { run } from '../../../lib/exec.ts';

// Stopping and starting a node's kubelet and containerd is not something the Kubernetes API offers: the
// e2e cases that need it are told how by the environment, and are skipped (saying so) when it does not.
//   WEFT_E2E_LAB=<id>     a lab cluster of this machine (npm run cluster:up)
//   WEFT_E2E_KIND=<name>  a kind cluster: docker exec <node> systemctl stop|start ...

export interface NodeControl {
  describe: string;
  setAgents(node: string, running: boolean): Promise<void>;
}

export function nodeControlFromEnv(env: NodeJS.ProcessEnv = process.env): NodeControl | undefined {
  if (env.WEFT_E2E_LAB) {
    const id = env.WEFT_E2E_LAB;
    return {
      describe: `lab "${id}"`,
      setAgents: async (node, running) => (await import('../../../lab/kube/cluster.ts')).setNodeAgents(id, node, running),
    };
  }
  if (env.WEFT_E2E_KIND) {
    return {
      describe: `kind cluster "${env.WEFT_E2E_KIND}"`,
      async setAgents(node, running) {
        // kind's node containers are named after their Nodes; units stop in the order given.
        const units = running ? ['containerd', 'kubelet'] : ['kubelet', 'containerd'];
        const result = await run('docker', ['exec', node, 'systemctl', running ? 'start' : 'stop', ...units]);
        if (result.code !== 0) throw new Error(`cannot ${running ? 'start' : 'stop'} the agents of ${node}: ${result.stderr.trim()}`);
      },
    };
  }
  return undefined;
}
