import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { CNI_COMMAND_NAMES, COMMAND_NAMES, DAEMON_COMMAND_NAMES } from '../../../build/links.ts';
import { parseNetworkConfig } from '../../../weftd/subnet/network-config.ts';
import { parseVxlanCniConfig } from '../../../plugins/vxlan/cni-config.ts';

// deploy/*.yaml: parses, and holds the invariants a broken deploy would violate silently.

const ROOT = resolve(import.meta.dirname, '../../..');
const DEPLOY = join(ROOT, 'deploy');

type Obj = Record<string, any>;

function loadManifests(): Obj[] {
  const objects: Obj[] = [];
  for (const file of readdirSync(DEPLOY).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(DEPLOY, file), 'utf8'))) {
      if (doc.errors.length) throw new Error(`cannot parse "${file}": ${doc.errors[0]!.message}`);
      const value = doc.toJS();
      if (value) objects.push({ ...value, __file: file });
    }
  }
  return objects;
}

const objects = loadManifests();
const ofKind = (kind: string): Obj[] => objects.filter((o) => o.kind === kind);
const named = (kind: string, name: string): Obj => {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} "${name}" in deploy/`);
  return found;
};
const daemonSets = ofKind('DaemonSet');
const containersOf = (ds: Obj): Obj[] => [...(ds.spec.template.spec.initContainers ?? []), ...ds.spec.template.spec.containers];
const flagValue = (command: readonly string[], flag: string): string | undefined => command.find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3);
const weftConfig = (): Obj => named('ConfigMap', 'weft-config');

describe('deploy manifests', () => {
  it('every document parses and names its kind, and namespaced objects live in weft-system', () => {
    expect(objects.length).toBeGreaterThanOrEqual(10);
    for (const o of objects) {
      expect(o.apiVersion, o.__file).toBeTruthy();
      expect(o.metadata?.name, o.__file).toMatch(/^[a-z0-9-]+$/);
      if (!['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind)) expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe('weft-system');
    }
  });

  it('ships a weft-node and a weft-proxy DaemonSet, both on the host network with image weft:dev', () => {
    expect(daemonSets.map((d) => d.metadata.name).sort()).toEqual(['weft-node', 'weft-proxy']);
    for (const ds of daemonSets) {
      expect(ds.spec.template.spec.hostNetwork).toBe(true);
      expect(ds.spec.selector.matchLabels).toEqual(Object.fromEntries(Object.entries(ds.spec.template.metadata.labels).filter(([k]) => k in ds.spec.selector.matchLabels)));
      for (const c of containersOf(ds)) expect(c.image, c.name).toBe('weft:dev');
    }
  });

  it('every main container runs a daemon the build links, and the init container installs the image directory the Dockerfile fills with the CNI plugins (their executable and the netlink addon); the daemons have the addon beside them too', () => {
    const dockerfile = readFileSync(join(ROOT, 'build/Dockerfile'), 'utf8');
    for (const ds of daemonSets) {
      for (const c of ds.spec.template.spec.containers) expect(DAEMON_COMMAND_NAMES, `${ds.metadata.name}/${c.name}`).toContain(c.command[0]);
    }
    const [install] = named('DaemonSet', 'weft-node').spec.template.spec.initContainers;
    expect(install.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(install.command[2]).toContain('cp -a /opt/weft/cni ');
    expect(dockerfile).toMatch(/COPY dist\/bin\/weft-cni dist\/bin\/weft-netlink\.node \/opt\/weft\/cni\//);
    expect(dockerfile).toMatch(/COPY dist\/bin\/weft dist\/bin\/weft-netlink\.node \/opt\/weft\/bin\//);
    for (const name of COMMAND_NAMES) expect(dockerfile).toContain(name);
  });

  it('DaemonSets tolerate NoSchedule (and every other) taint', () => {
    for (const ds of daemonSets) {
      const tolerations: Obj[] = ds.spec.template.spec.tolerations ?? [];
      expect(tolerations.some((t) => t.operator === 'Exists' && !t.key && (!t.effect || t.effect === 'NoSchedule')), ds.metadata.name).toBe(true);
    }
  });

  it('RBAC grants least privilege: no wildcard, no secrets, read-only except events and the own Node status', () => {
    const roles = ofKind('ClusterRole').concat(ofKind('Role'));
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles) {
      for (const rule of role.rules as Obj[]) {
        for (const field of ['apiGroups', 'resources', 'verbs']) expect(rule[field], `${role.metadata.name}.${field}`).not.toContain('*');
        expect(rule.resources).not.toContain('secrets');
        const writes = (rule.verbs as string[]).filter((v) => !['get', 'list', 'watch'].includes(v));
        if (writes.length === 0) continue;
        const target = `${role.metadata.name}:${(rule.resources as string[]).join(',')}`;
        expect(['weft-node:nodes/status', 'weft-proxy:events'], target).toContain(target);
        expect(writes.every((v) => ['create', 'patch'].includes(v)), `${target} ${writes}`).toBe(true);
      }
    }
    for (const ds of daemonSets) {
      const account = ds.spec.template.spec.serviceAccountName;
      named('ServiceAccount', account);
      const binding = ofKind('ClusterRoleBinding').find((b) => b.subjects.some((s: Obj) => s.kind === 'ServiceAccount' && s.name === account && s.namespace === 'weft-system'));
      expect(binding, `binding for ${account}`).toBeDefined();
    }
  });

  it('kubectl apply -k deploy/ applies exactly the files kubectl apply -f deploy/ does', () => {
    const kustomization = parseYaml(readFileSync(join(DEPLOY, 'kustomization.yaml'), 'utf8'));
    expect(kustomization.resources).toEqual([...new Set(objects.map((o) => o.__file))]);
  });

  it('the conflist offers CNI 1.1.0 to runtimes that know it and 1.0.0 to containerd 1.x, with weft-vxlan reading the subnet file weftd writes, then portmap for hostPort', () => {
    const list = JSON.parse(weftConfig().data['10-weft.conflist']);
    expect(list.cniVersion).toBe('1.0.0');
    expect(list.cniVersions).toEqual(['1.0.0', '1.1.0']);
    expect(list.plugins.map((p: Obj) => p.type)).toEqual(['weft-vxlan', 'portmap']);
    expect(list.plugins[1].capabilities).toEqual({ portMappings: true });
    expect(CNI_COMMAND_NAMES).toContain(list.plugins[0].type);
    const parsed = parseVxlanCniConfig({ ...list.plugins[0], name: list.name, cniVersion: list.cniVersion });
    const weftd = named('DaemonSet', 'weft-node').spec.template.spec.containers.find((c: Obj) => c.command[0] === 'weftd');
    expect(parsed.subnetFile).toBe('/run/weft/subnet.env');
    expect(flagValue(weftd.command, 'subnet-file')).toBe(parsed.subnetFile);
  });

  it('weftd runs the kube subnet manager with masquerading, its node name and config mounted, and the host paths it needs', () => {
    const spec = named('DaemonSet', 'weft-node').spec.template.spec;
    const weftd = spec.containers.find((c: Obj) => c.command[0] === 'weftd');
    expect(weftd.command).toEqual(expect.arrayContaining(['--kube-subnet-mgr', '--subnet-file=/run/weft/subnet.env', '--ip-masq']));
    expect(weftd.env.find((e: Obj) => e.name === 'NODE_NAME').valueFrom.fieldRef.fieldPath).toBe('spec.nodeName');
    const hostPaths = Object.fromEntries(spec.volumes.filter((v: Obj) => v.hostPath).map((v: Obj) => [v.name, v.hostPath.path]));
    expect(Object.values(hostPaths).sort()).toEqual(['/etc/cni/net.d', '/lib/modules', '/opt/cni/bin', '/run/weft', '/run/xtables.lock', '/var/lib/cni']);
    const mounts = [...spec.initContainers, ...spec.containers].flatMap((c: Obj) => c.volumeMounts);
    for (const name of Object.keys(hostPaths)) expect(mounts.map((m: Obj) => m.name), name).toContain(name);
    expect(mounts.find((m: Obj) => m.name === 'lib-modules').readOnly).toBe(true);
    expect(mounts.find((m: Obj) => m.mountPath === '/etc/weft').name).toBe('weft-config');
    expect(weftd.securityContext.capabilities.add).toEqual(expect.arrayContaining(['NET_ADMIN']));
  });

  it('one pod network everywhere: net-conf.json, weft-proxy --cluster-cidr and kind podSubnet agree, with the vxlan backend', () => {
    const network = parseNetworkConfig(weftConfig().data['net-conf.json']);
    expect(network.backend.type).toBe('vxlan');
    const netConf = JSON.parse(weftConfig().data['net-conf.json']);
    const proxy = named('DaemonSet', 'weft-proxy').spec.template.spec.containers[0];
    const kind = parseYaml(readFileSync(join(ROOT, 'kind-config.yaml'), 'utf8'));
    expect(netConf.Network).toBe('10.244.0.0/16');
    expect(flagValue(proxy.command, 'cluster-cidr')).toBe(netConf.Network);
    expect(kind.networking.podSubnet).toBe(netConf.Network);
    expect(kind.networking.kubeProxyMode).toBe('none');
  });

  it("weft-proxy runs in the mode ConfigMap weft-config names, iptables unless changed", () => {
    const proxy = named('DaemonSet', 'weft-proxy').spec.template.spec.containers[0];
    expect(flagValue(proxy.command, 'proxy-mode')).toBe('$(PROXY_MODE)');
    expect(proxy.env.find((e: Obj) => e.name === 'PROXY_MODE').valueFrom.configMapKeyRef).toEqual({ name: 'weft-config', key: 'proxy-mode' });
    expect(weftConfig().data['proxy-mode']).toBe('nftables');
  });

  it('weft-proxy names its node, probes :10256/healthz, and takes the API server address from the optional ConfigMap', () => {
    const proxy = named('DaemonSet', 'weft-proxy').spec.template.spec.containers[0];
    expect(flagValue(proxy.command, 'hostname-override')).toBe('$(NODE_NAME)');
    expect(proxy.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 10256 });
    const apiserver = named('ConfigMap', 'weft-apiserver');
    expect(Object.keys(apiserver.data).sort()).toEqual(['KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT']);
    // kind's and the lab's control-plane node: kind-config.yaml names the cluster "weft".
    const kind = parseYaml(readFileSync(join(ROOT, 'kind-config.yaml'), 'utf8'));
    expect(apiserver.data.KUBERNETES_SERVICE_HOST).toBe(`${kind.name}-control-plane`);
    for (const ds of daemonSets) {
      const main = ds.spec.template.spec.containers[0];
      expect(main.envFrom, ds.metadata.name).toContainEqual({ configMapRef: { name: 'weft-apiserver', optional: true } });
    }
  });
});
