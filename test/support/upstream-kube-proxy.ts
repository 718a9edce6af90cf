import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startComponent, stopComponent } from '../../lab/kube/component-process.ts';
import { CLUSTER_CIDR } from '../../lab/kube/control-plane-args.ts';

// Upstream kube-proxy (built by scripts/install-k8s.ts from the same modules as the API server) on a test
// node: the reference weft-proxy is compared with, for behaviour and for sync speed.

export interface UpstreamKubeProxyOptions {
  /** Directory holding kube-proxy (ControlPlane.binDir). */
  binDir: string;
  /** The node namespace whose kernel it programs. */
  netns: string;
  /** The Node object it serves (hostnameOverride). */
  nodeName: string;
  /** A kubeconfig reachable from `netns` (ControlPlane.createProxyCredentials). */
  kubeconfig: string;
  mode?: 'iptables' | 'nftables';
  /** Extra KubeProxyConfiguration fields, merged over the defaults. */
  config?: Record<string, unknown>;
}

export interface UpstreamKubeProxy {
  /** Stops kube-proxy (its rules stay in the namespace) and removes its config dir. */
  close(): Promise<void>;
}

/**
 * The configuration file's content. Conntrack limits and timeouts are zero so kube-proxy writes no
 * net.netfilter sysctl: those are per-host and this sandbox lacks the capability to raise some of them.
 */
export function renderKubeProxyConfig(options: Omit<UpstreamKubeProxyOptions, 'binDir' | 'netns'>): string {
  return JSON.stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: options.kubeconfig },
    mode: options.mode ?? 'iptables',
    hostnameOverride: options.nodeName,
    clusterCIDR: CLUSTER_CIDR,
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    // Loopback of the node namespace: every node namespace can use the same ports.
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    ...options.config,
  });
}

export function startUpstreamKubeProxy(options: UpstreamKubeProxyOptions): UpstreamKubeProxy {
  const dir = mkdtempSync(join(tmpdir(), 'weft-kube-proxy-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, renderKubeProxyConfig(options), { mode: 0o600 });
  const component = startComponent('kube-proxy', join(options.binDir, 'kube-proxy'), [`--config=${file}`], { netns: options.netns });
  return {
    close: async () => {
      await stopComponent(component);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
