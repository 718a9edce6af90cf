import { describe, expect, it } from 'vitest';
import { backingPath, renderNodeMountScript } from '../../../lab/kube/node-machine.ts';
import { CLUSTER_DNS_IP, PAUSE_IMAGE, kubeletArgs, renderContainerdConfig, renderKubeletConfig } from '../../../lab/kube/node-config.ts';
import { planTopology } from '../../../lab/kube/topology.ts';

const topology = planTopology({ id: 'lab', workers: 1, stateDir: '/state' });
const [cp, worker] = topology.nodes as [typeof topology.nodes[0], typeof topology.nodes[0]];
const files = { caFile: '/etc/kubernetes/pki/ca.crt', tlsCertFile: '/var/lib/kubelet/pki/kubelet.crt', tlsPrivateKeyFile: '/var/lib/kubelet/pki/kubelet.key' };

describe('lab node configuration', () => {
  it('runs containerd with the CRI settings this machine needs and the node-local paths', () => {
    const config = renderContainerdConfig();
    expect(config).toContain(`sandbox_image = "${PAUSE_IMAGE}"`);
    expect(config).toContain('restrict_oom_score_adj = true');
    expect(config).toContain('netns_mounts_under_state_dir = true');
    expect(config).toContain('SystemdCgroup = false');
    expect(config).toContain('bin_dir = "/opt/cni/bin"');
    expect(config).toContain('conf_dir = "/etc/cni/net.d"');
    // Never the machine's own /opt/containerd.
    expect(config).toContain('path = "/var/lib/containerd/opt"');
  });

  it('gives each kubelet its own cgroup root, address, cluster DNS and no iptables chains of its own', () => {
    const config = JSON.parse(renderKubeletConfig(worker, files));
    expect(config).toMatchObject({ cgroupDriver: 'cgroupfs', cgroupRoot: '/lab-w1', address: '172.18.0.3', clusterDNS: [CLUSTER_DNS_IP], makeIPTablesUtilChains: false, failSwapOn: false });
    expect(config.authentication.x509.clientCAFile).toBe(files.caFile);
    expect(config.authentication.anonymous.enabled).toBe(false);
    expect(config.authorization.mode).toBe('Webhook');
    expect(config.registerWithTaints).toEqual([]);
    expect(config.imageGCHighThresholdPercent).toBe(100);
  });

  it('taints the control-plane node as kubeadm does', () => {
    expect(JSON.parse(renderKubeletConfig(cp, files)).registerWithTaints).toEqual([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
  });

  it('registers the node under its name and underlay address', () => {
    expect(kubeletArgs(worker, { config: '/c', kubeconfig: '/k' })).toEqual(['--config=/c', '--kubeconfig=/k', '--hostname-override=weft-worker', '--node-ip=172.18.0.3', '--v=1']);
  });

  it("mounts the node's own directories over the system paths and a sysfs of its own, keeping the cgroup hierarchies", () => {
    const script = renderNodeMountScript(worker);
    expect(backingPath(worker, '/var/lib/kubelet')).toBe('/state/nodes/weft-worker/var-lib-kubelet');
    for (const path of ['/etc/cni/net.d', '/opt/cni/bin', '/run', '/var/lib/kubelet', '/var/lib/containerd', '/var/lib/cni', '/etc/hosts']) {
      expect(script).toContain(`mount --bind '${backingPath(worker, path)}' '${path}'`);
    }
    expect(script).toContain("hostname 'weft-worker'");
    const lines = script.split('\n');
    const sysfs = lines.indexOf('mount -t sysfs sysfs /sys');
    expect(sysfs).toBeGreaterThan(lines.findIndex((l) => l.startsWith('mount --rbind /sys/fs/cgroup')));
    expect(lines.findIndex((l) => l.endsWith(' /sys/fs/cgroup') && l.startsWith('mount --rbind'))).toBeGreaterThan(sysfs);
    expect(lines[0]).toBe('set -eu');
  });
});

describe('containerd config syntax', () => {
  it('names every table by its whole key path, each once', () => {
    const tables = renderContainerdConfig().split('\n').filter((l) => l.startsWith('['));
    for (const table of tables) expect(table).toMatch(/^\[[^\[\]]+\]$/);
    expect(new Set(tables).size).toBe(tables.length);
    expect(tables).toContain('[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]');
  });
});
