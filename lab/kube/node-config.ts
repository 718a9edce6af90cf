import type { NodePlan } from './topology.ts';

// What a lab node's containerd and kubelet are told, as a kind node's are: pure renderers, so the
// settings this machine needs (no CAP_SYS_RESOURCE, cgroup v1, no registry) are visible and tested.

export const CLUSTER_DNS_IP = '10.96.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';
/** The sandbox image the kubelet and containerd agree on (test/utils/image/manifest.go's Pause at v1.34). */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10.1';
export const CONTAINERD_SOCKET = '/run/containerd/containerd.sock';
export const CONTROL_PLANE_TAINT = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' } as const;

/** Paths a node sees as its own (bind mounts of directories under its state dir), as a kind node container has them. */
export const NODE_PRIVATE_DIRS = [
  '/etc/cni/net.d',
  '/opt/cni/bin',
  '/etc/kubernetes',
  '/run',
  '/var/lib/kubelet',
  '/var/lib/containerd',
  '/var/lib/cni',
  '/var/log/pods',
  '/var/log/containers',
] as const;
/** Files a node sees as its own. */
export const NODE_PRIVATE_FILES = ['/etc/hosts', '/etc/resolv.conf', '/etc/hostname'] as const;

/**
 * Sysctls the kubelet writes when they differ (and a failed write is fatal: this machine lacks
 * CAP_SYS_RESOURCE for some): they are machine-wide, so cluster:up sets them first and cluster:down
 * restores what was there.
 */
export const KUBELET_SYSCTLS: Readonly<Record<string, string>> = {
  'vm.overcommit_memory': '1',
  'vm.panic_on_oom': '0',
  'kernel.panic': '10',
  'kernel.panic_on_oops': '1',
  'kernel.keys.root_maxkeys': '1000000',
  'kernel.keys.root_maxbytes': '25000000',
};

/** Sysctls of each node's own network namespace, as a node prepared for Kubernetes has them. */
export const NODE_NET_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_forward': '1',
  'net.bridge.bridge-nf-call-iptables': '1',
};

/** cgroup v1 hierarchies a node's cgroupRoot is created in (this machine's mounted ones); runc adds the unified one. */
export const CGROUP_HIERARCHIES = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd', 'unified'] as const;

/** containerd plugins a node does without: tracing, and snapshotters that probe for filesystems this machine lacks. */
export const QUIET_DISABLED_PLUGINS = [
  'io.containerd.internal.v1.tracing',
  'io.containerd.tracing.processor.v1.otlp',
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.zfs',
];

const toml = (value: string | boolean | readonly string[]) => JSON.stringify(value);

/** containerd 1.6's config (version 2) for one node; every path is the node's own through its bind mounts. */
export function renderContainerdConfig(): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return [
    'version = 2',
    `root = ${toml('/var/lib/containerd')}`,
    `state = ${toml('/run/containerd')}`,
    `disabled_plugins = ${toml(QUIET_DISABLED_PLUGINS)}`,
    '[grpc]',
    `  address = ${toml(CONTAINERD_SOCKET)}`,
    '[debug]',
    '  level = "warn"',
    // Otherwise containerd creates /opt/containerd in the machine's own filesystem.
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${toml('/var/lib/containerd/opt')}`,
    `[${cri}]`,
    `  sandbox_image = ${toml(PAUSE_IMAGE)}`,
    // A sandbox asks for oom_score_adj -998; without CAP_SYS_RESOURCE runc cannot lower it.
    '  restrict_oom_score_adj = true',
    '  disable_apparmor = true',
    // Pod network namespaces under the node's /run/containerd, not the machine's shared /run/netns.
    '  netns_mounts_under_state_dir = true',
    `[${cri}.containerd]`,
    '  snapshotter = "overlayfs"',
    '  default_runtime_name = "runc"',
    `[${cri}.containerd.runtimes.runc]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `[${cri}.containerd.runtimes.runc.options]`,
    '  SystemdCgroup = false',
    `[${cri}.cni]`,
    `  bin_dir = ${toml('/opt/cni/bin')}`,
    `  conf_dir = ${toml('/etc/cni/net.d')}`,
    '',
  ].join('\n');
}

export interface KubeletFiles {
  caFile: string;
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
}

/** KubeletConfiguration (JSON, which the kubelet reads as YAML). */
export function renderKubeletConfig(node: NodePlan, files: KubeletFiles): string {
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // containerd 1.6 with cgroupfs; this machine has cgroup v1 (hybrid), which v1.35 would refuse by default.
    cgroupDriver: 'cgroupfs',
    cgroupRoot: `/${node.cgroup}`,
    failCgroupV1: false,
    failSwapOn: false,
    // weft-proxy owns the node's packet filter; the kubelet adds nothing of its own.
    makeIPTablesUtilChains: false,
    containerRuntimeEndpoint: `unix://${CONTAINERD_SOCKET}`,
    address: node.ip,
    healthzBindAddress: '127.0.0.1',
    readOnlyPort: 0,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: files.caFile } },
    authorization: { mode: 'Webhook' },
    tlsCertFile: files.tlsCertFile,
    tlsPrivateKeyFile: files.tlsPrivateKeyFile,
    clusterDNS: [CLUSTER_DNS_IP],
    clusterDomain: CLUSTER_DOMAIN,
    resolvConf: '/etc/resolv.conf',
    // Nodes share one disk: the defaults (10-15 %) would evict pods on a busy machine. Images come from
    // tarballs, not a registry, so they must never be garbage-collected.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'nodefs.inodesFree': '1%', 'imagefs.available': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    registerWithTaints: node.role === 'control-plane' ? [CONTROL_PLANE_TAINT] : [],
    // Two cores for the whole lab: keep the kubelet's own housekeeping light.
    nodeStatusReportFrequency: '1m',
    serializeImagePulls: false,
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function kubeletArgs(node: NodePlan, files: { config: string; kubeconfig: string }): string[] {
  return [`--config=${files.config}`, `--kubeconfig=${files.kubeconfig}`, `--hostname-override=${node.name}`, `--node-ip=${node.ip}`, '--v=1'];
}
