import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run } from '../lib/exec.ts';
import { serviceChainName } from '../proxy/chain-names.ts';
import { startComponent, stopComponent } from '../lab/kube/component-process.ts';
import type { Netns } from '../test/support/netns.ts';
import { startUpstreamKubeProxy } from '../test/support/upstream-kube-proxy.ts';
import { CLUSTER_CIDR } from '../lab/kube/control-plane-args.ts';
import { servicePortKey } from './proxy-objects.ts';
import { kubeProxyEndpointChain, pidIn, type ProxyImplementation, type RunningProxy } from './proxy-cluster.ts';

// The two proxies bench:proxy compares, started the way a node would run them.

const ROOT = resolve(import.meta.dirname, '..');
const PID_WAIT_MS = 20_000;

async function waitForPid(node: Netns, comm: string): Promise<number> {
  const deadline = Date.now() + PID_WAIT_MS;
  while (Date.now() < deadline) {
    const pid = await pidIn(node, comm);
    if (pid !== undefined) return pid;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`cannot find the "${comm}" process in namespace "${node.name}"`);
}

/** Upstream kube-proxy in iptables mode, built from the same modules as the API server. */
export function kubeProxy(binDir: string): ProxyImplementation {
  return {
    name: 'kube-proxy',
    dnatChain: kubeProxyEndpointChain,
    start: async (node, { kubeconfig, nodeName }): Promise<RunningProxy> => {
      const proxy = startUpstreamKubeProxy({ binDir, netns: node.path, nodeName, kubeconfig });
      return { pid: await waitForPid(node, 'kube-proxy'), close: proxy.close };
    },
  };
}

/**
 * weft-proxy's daemon, when it exists: from the sources, or the built executable in WEFT_BIN_DIR (as the
 * tests choose; dist/bin may predate the daemon, so it is not picked by default).
 */
export async function weftProxy(): Promise<ProxyImplementation | { unavailable: string }> {
  if (!existsSync(join(ROOT, 'proxy/daemon.ts'))) return { unavailable: 'proxy/daemon.ts does not exist yet' };
  const built = process.env.WEFT_BIN_DIR ? join(resolve(process.env.WEFT_BIN_DIR), 'weft-proxy') : undefined;
  if (built !== undefined && !existsSync(built)) return { unavailable: `${built} does not exist` };
  const command = built ? [built] : [process.execPath, join(ROOT, 'bin/weft.ts'), 'weft-proxy'];
  const help = await run(command[0] as string, [...command.slice(1), '--help']);
  if (!/kubeconfig/.test(help.stdout + help.stderr)) return { unavailable: 'weft-proxy --help shows no daemon flags' };
  return {
    name: 'weft-proxy',
    dnatChain: (index) => serviceChainName('SVC', { key: servicePortKey(index), protocol: 'tcp' }),
    start: async (node, { kubeconfig, nodeName }): Promise<RunningProxy> => {
      const args = ['--kubeconfig', kubeconfig, '--hostname-override', nodeName, '--cluster-cidr', CLUSTER_CIDR];
      const component = startComponent('weft-proxy', command[0] as string, [...command.slice(1), ...args], { netns: node.path });
      // nsenter and setpriv exec, so the child's pid is the proxy's.
      const pid = component.process.pid;
      if (pid === undefined) throw new Error('cannot start weft-proxy: no process id');
      return { pid, close: () => stopComponent(component) };
    },
  };
}
