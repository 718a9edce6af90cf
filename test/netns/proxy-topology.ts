import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { stringify } from 'yaml';
import { runChecked } from '../../lib/exec.ts';
import type { Netns, NetnsScope } from '../support/netns.ts';

// The proxy traffic tests' topology, shared by the iptables and nftables tests. All inside
// namespaces the caller's scope creates:
//   pods a, b (backends), c (client) on bridge br0 10.244.0.0/24 in the node namespace;
//   an "external" namespace on a veth 192.168.77.0/24 (node 192.168.77.1, client .2 and .3).
// Backend a is on this node (node-1), backend b claims node-2, so Local policies use only a.
// Backends answer HTTP on 8080 (`/cgi-bin/who` prints "backend-ID CLIENT-IP") and UDP echo on 5353.

export const NODE_IP = '192.168.77.1';
export const POD_CIDR = '10.244.0.0/16';
export const BACKENDS = [
  { id: 'a', ip: '10.244.0.2', node: 'node-1' },
  { id: 'b', ip: '10.244.0.3', node: 'node-2' },
] as const;
export const CLIENT_IP = '10.244.0.4';

export function service(name: string, ip: string, options: { nodePort?: number; spec?: Record<string, unknown>; status?: Record<string, unknown> } = {}) {
  const port = { name: 'http', port: 80, protocol: 'TCP', ...(options.nodePort ? { nodePort: options.nodePort } : {}) };
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { clusterIP: ip, ports: [port], ...options.spec }, status: options.status ?? {} };
}

export function slice(serviceName: string, ports = [{ name: 'http', port: 8080, protocol: 'TCP' }], backends: readonly { ip: string; node: string }[] = BACKENDS) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${serviceName}-x1`, namespace: 'default', labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports,
    endpoints: backends.map((b) => ({ addresses: [b.ip], conditions: { ready: true }, nodeName: b.node })),
  };
}

export const OBJECTS = {
  apiVersion: 'v1',
  kind: 'List',
  items: [
    service('web', '10.96.0.10', {
      spec: {
        ports: [
          { name: 'http', port: 80, protocol: 'TCP' },
          { name: 'echo', port: 53, protocol: 'UDP' },
        ],
      },
    }),
    slice('web', [
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'echo', port: 5353, protocol: 'UDP' },
    ]),
    service('sticky', '10.96.0.11', { spec: { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } } }),
    slice('sticky'),
    service('np', '10.96.0.12', { nodePort: 30080, spec: { type: 'NodePort' } }),
    slice('np'),
    service('lb', '10.96.0.13', {
      nodePort: 30081,
      spec: { type: 'LoadBalancer', loadBalancerSourceRanges: ['192.168.77.2/32'] },
      status: { loadBalancer: { ingress: [{ ip: '10.200.0.10' }] } },
    }),
    slice('lb'),
    service('empty', '10.96.0.14'),
    service('local', '10.96.0.15', { nodePort: 30082, spec: { type: 'NodePort', externalTrafficPolicy: 'Local' } }),
    slice('local'),
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, status: { addresses: [{ type: 'InternalIP', address: NODE_IP }] } },
  ],
};

const UDP_ECHO = `
const sock = require('node:dgram').createSocket('udp4');
sock.on('message', (m, r) => sock.send('backend-' + process.argv[2] + ' ' + r.address, r.port, r.address));
sock.bind(5353);
`;

// Sends one datagram from a fresh socket per round (a new conntrack entry each) and prints each reply.
const UDP_CLIENT = `
const dgram = require('node:dgram');
const [ip, port, rounds] = process.argv.slice(2);
(async () => {
  for (let i = 0; i < Number(rounds); i++) {
    const sock = dgram.createSocket('udp4');
    const reply = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), 1000);
      sock.on('message', (m) => { clearTimeout(timer); resolve(m.toString()); });
      sock.send('ping', Number(port), ip);
    });
    console.log(reply);
    sock.close();
  }
})();
`;

export interface ProxyTopology {
  readonly node: Netns;
  readonly ext: Netns;
  readonly client: Netns;
  readonly pods: ReadonlyMap<string, Netns>;
  /** The UDP client script: `node SCRIPT IP PORT ROUNDS` prints one reply (or "timeout") per round. */
  readonly udpClient: string;
}

export interface CurlResult {
  readonly code: number;
  readonly body: string;
  readonly ms: number;
}

export async function curl(from: Netns, url: string, ...extra: string[]): Promise<CurlResult> {
  const started = performance.now();
  const result = await from.try('curl', ['-s', '--max-time', '2', ...extra, url]);
  return { code: result.code, body: result.stdout.trim(), ms: performance.now() - started };
}

/** Runs `count` requests one after another (bounded by curl's own 2 s limit each). */
export async function bodies(from: Netns, url: string, count: number, ...extra: string[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push((await curl(from, url, ...extra)).body);
  return out;
}

/** Builds the topology in `scope` (scripts and web roots under `dir`) and waits until each backend answers directly. */
export async function createProxyTopology(scope: NetnsScope, dir: string): Promise<ProxyTopology> {
  const node = await scope.create('pnode');
  const ext = await scope.create('pext');
  const client = await scope.create('pcli');
  const pods = new Map<string, Netns>();
  for (const b of BACKENDS) pods.set(b.id, await scope.create(`p${b.id}`));

  await node.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  await node.exec('ip', ['link', 'add', 'br0', 'type', 'bridge']);
  await node.exec('ip', ['addr', 'add', '10.244.0.1/24', 'dev', 'br0']);
  await node.exec('ip', ['link', 'set', 'br0', 'up']);
  await node.exec('sysctl', ['-qw', 'net.bridge.bridge-nf-call-iptables=1']);
  const attach = async (pod: Netns, veth: string, ip: string) => {
    await node.exec('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.name]);
    await node.exec('ip', ['link', 'set', veth, 'master', 'br0', 'up']);
    // Hairpin lets an endpoint reach itself through the service (what the bridge CNI's hairpinMode sets).
    await node.exec('ip', ['link', 'set', veth, 'type', 'bridge_slave', 'hairpin', 'on']);
    await pod.exec('ip', ['addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    await pod.exec('ip', ['link', 'set', 'eth0', 'up']);
    await pod.exec('ip', ['route', 'add', 'default', 'via', '10.244.0.1']);
  };
  for (const b of BACKENDS) await attach(pods.get(b.id) as Netns, `v${b.id}`, b.ip);
  await attach(client, 'vc', CLIENT_IP);

  await node.exec('ip', ['link', 'add', 'vext', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ext.name]);
  await node.exec('ip', ['addr', 'add', `${NODE_IP}/24`, 'dev', 'vext']);
  await node.exec('ip', ['link', 'set', 'vext', 'up']);
  await ext.exec('ip', ['addr', 'add', '192.168.77.2/24', 'dev', 'eth0']);
  await ext.exec('ip', ['addr', 'add', '192.168.77.3/24', 'dev', 'eth0']);
  await ext.exec('ip', ['link', 'set', 'eth0', 'up']);
  for (const net of ['10.96.0.0/16', '10.200.0.0/16']) await ext.exec('ip', ['route', 'add', net, 'via', NODE_IP]);
  // A node has a default route: without one, unmatched service traffic fails routing before the filter table sees it.
  await node.exec('ip', ['route', 'add', 'default', 'via', '192.168.77.2']);

  const udpClient = join(dir, 'udp-client.cjs');
  writeFileSync(join(dir, 'udp-echo.cjs'), UDP_ECHO, { mode: 0o600 });
  writeFileSync(udpClient, UDP_CLIENT, { mode: 0o600 });
  for (const b of BACKENDS) {
    const root = join(dir, b.id);
    mkdirSync(join(root, 'cgi-bin'), { recursive: true, mode: 0o700 });
    // busybox httpd reports IPv4 clients as [::ffff:a.b.c.d]; the script prints a.b.c.d.
    const script = `#!/bin/sh\na=\${REMOTE_ADDR#[::ffff:}\nprintf 'Content-Type: text/plain\\r\\n\\r\\nbackend-${b.id} %s\\n' "\${a%]}"\n`;
    writeFileSync(join(root, 'cgi-bin', 'who'), script, { mode: 0o700 });
    chmodSync(join(root, 'cgi-bin', 'who'), 0o700);
    const pod = pods.get(b.id) as Netns;
    await pod.exec('busybox', ['httpd', '-p', '8080', '-h', root]);
    await pod.exec('sh', ['-c', `nohup "${process.execPath}" "${join(dir, 'udp-echo.cjs')}" ${b.id} >/dev/null 2>&1 &`]);
  }
  for (const b of BACKENDS) {
    let up = false;
    for (let i = 0; i < 20 && !up; i++) {
      up = (await curl(client, `http://${b.ip}:8080/cgi-bin/who`)).body.startsWith(`backend-${b.id}`);
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    expect(up, `backend ${b.id} answers directly`).toBe(true);
  }
  return { node, ext, client, pods, udpClient };
}

const WEFT = fileURLToPath(new URL('../../bin/weft.ts', import.meta.url));

/** Renders OBJECTS with `weft-proxy render --proxy-mode MODE` and applies the output in the node namespace. */
export async function applyRenderedRules(node: Netns, options: { dir: string; mode: 'iptables' | 'nftables' }): Promise<void> {
  const objectsFile = join(options.dir, 'objects.yaml');
  writeFileSync(objectsFile, stringify(OBJECTS), { mode: 0o600 });
  const rendered = await runChecked(process.execPath, [WEFT, 'weft-proxy', 'render', '--proxy-mode', options.mode, '--hostname-override', 'node-1', '--cluster-cidr', POD_CIDR, '--objects', objectsFile]);
  if (options.mode === 'iptables') await node.exec('iptables-restore', ['--noflush', '-w'], rendered.stdout);
  else await node.exec('nft', ['-f', '-'], rendered.stdout);
}
