import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runChecked } from '../../lib/exec.ts';
import { NetnsScope, type Netns } from '../support/netns.ts';

// `weft-proxy render` output applied with iptables-restore --noflush inside a "node" namespace, then
// checked by traffic. Topology (all inside namespaces this file creates):
//   pods a, b (backends), c (client) on bridge br0 10.244.0.0/24 in the node namespace;
//   an "external" namespace on a veth 192.168.77.0/24 (node 192.168.77.1, client .2 and .3).
// Backend a is on this node (node-1), backend b claims node-2, so Local policies use only a.

const WEFT = fileURLToPath(new URL('../../bin/weft.ts', import.meta.url));
const NODE_IP = '192.168.77.1';
const POD_CIDR = '10.244.0.0/16';
const BACKENDS = [
  { id: 'a', ip: '10.244.0.2', node: 'node-1' },
  { id: 'b', ip: '10.244.0.3', node: 'node-2' },
] as const;
const CLIENT_IP = '10.244.0.4';

function service(name: string, ip: string, options: { nodePort?: number; spec?: Record<string, unknown>; status?: Record<string, unknown> } = {}) {
  const port = { name: 'http', port: 80, protocol: 'TCP', ...(options.nodePort ? { nodePort: options.nodePort } : {}) };
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { clusterIP: ip, ports: [port], ...options.spec }, status: options.status ?? {} };
}

function slice(serviceName: string, ports = [{ name: 'http', port: 8080, protocol: 'TCP' }]) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${serviceName}-x1`, namespace: 'default', labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports,
    endpoints: BACKENDS.map((b) => ({ addresses: [b.ip], conditions: { ready: true }, nodeName: b.node })),
  };
}

const OBJECTS = {
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

describe('weft-proxy render applied in a node namespace', () => {
  const scope = new NetnsScope();
  const dir = mkdtempSync(join(tmpdir(), 'weft-proxy-'));
  let node: Netns;
  let ext: Netns;
  let client: Netns;
  const pods = new Map<string, Netns>();

  async function curl(from: Netns, url: string, ...extra: string[]) {
    const started = performance.now();
    const result = await from.try('curl', ['-s', '--max-time', '2', ...extra, url]);
    return { code: result.code, body: result.stdout.trim(), ms: performance.now() - started };
  }

  /** Runs `count` requests one after another (bounded by curl's own 2 s limit each). */
  async function bodies(from: Netns, url: string, count: number, ...extra: string[]) {
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push((await curl(from, url, ...extra)).body);
    return out;
  }

  beforeAll(async () => {
    node = await scope.create('pnode');
    ext = await scope.create('pext');
    client = await scope.create('pcli');
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

    writeFileSync(join(dir, 'udp-echo.cjs'), UDP_ECHO, { mode: 0o600 });
    writeFileSync(join(dir, 'udp-client.cjs'), UDP_CLIENT, { mode: 0o600 });
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

    const objectsFile = join(dir, 'objects.yaml');
    writeFileSync(objectsFile, stringify(OBJECTS), { mode: 0o600 });
    const rendered = await runChecked(process.execPath, [WEFT, 'weft-proxy', 'render', '--hostname-override', 'node-1', '--cluster-cidr', POD_CIDR, '--objects', objectsFile]);
    await node.exec('iptables-restore', ['--noflush', '-w'], rendered.stdout);
  });

  afterAll(async () => {
    await scope.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a ClusterIP spreads 40 requests from a pod over both backends, keeping the pod as source', async () => {
    const got = await bodies(client, 'http://10.96.0.10/cgi-bin/who', 40);
    const a = got.filter((b) => b === `backend-a ${CLIENT_IP}`).length;
    const b = got.filter((b) => b === `backend-b ${CLIENT_IP}`).length;
    expect(a + b).toBe(40);
    // Each side gets at least 5 of 40 unless the spread is broken (chance below 1e-6 when even).
    expect(a).toBeGreaterThanOrEqual(5);
    expect(b).toBeGreaterThanOrEqual(5);
  });

  it('a UDP ClusterIP port answers from both backends, next to a TCP port of the same Service', async () => {
    const out = await client.exec(process.execPath, [join(dir, 'udp-client.cjs'), '10.96.0.10', '53', '16']);
    const replies = out.trim().split('\n');
    expect(replies).toHaveLength(16);
    expect(new Set(replies)).toEqual(new Set([`backend-a ${CLIENT_IP}`, `backend-b ${CLIENT_IP}`]));
  });

  it('session affinity sends every request of one client to the same backend', async () => {
    const got = await bodies(client, 'http://10.96.0.11/cgi-bin/who', 12);
    expect(got[0]).toMatch(/^backend-[ab] /);
    expect(new Set(got)).toEqual(new Set([got[0]]));
  });

  it('traffic to a ClusterIP from outside the cluster CIDR is masqueraded', async () => {
    const got = await curl(ext, 'http://10.96.0.10/cgi-bin/who');
    expect(got.body).toMatch(/^backend-[ab] 10\.244\.0\.1$/);
  });

  it('a NodePort on the node address answers from the external namespace, masqueraded', async () => {
    const got = await bodies(ext, `http://${NODE_IP}:30080/cgi-bin/who`, 6);
    for (const body of got) expect(body).toMatch(/^backend-[ab] 10\.244\.0\.1$/);
  });

  it('a load-balancer IP admits a source in loadBalancerSourceRanges and drops another', async () => {
    const allowed = await curl(ext, 'http://10.200.0.10/cgi-bin/who', '--interface', '192.168.77.2');
    expect(allowed.body).toMatch(/^backend-[ab] /);
    const refused = await curl(ext, 'http://10.200.0.10/cgi-bin/who', '--interface', '192.168.77.3');
    expect(refused.code).toBe(28); // curl: timed out, the SYN was dropped
  });

  it('a Service without endpoints is refused at once, not left to time out', async () => {
    const got = await curl(client, 'http://10.96.0.14/');
    expect(got.code).toBe(7); // curl: failed to connect (connection refused)
    expect(got.ms).toBeLessThan(1000);
  });

  it('externalTrafficPolicy Local reaches only the local backend and keeps the client address', async () => {
    const got = await bodies(ext, `http://${NODE_IP}:30082/cgi-bin/who`, 10);
    expect(got).toEqual(Array(10).fill('backend-a 192.168.77.2'));
  });

  it('a backend reaching itself through its Service (hairpin) is masqueraded and answered', async () => {
    const got = await bodies(pods.get('a') as Netns, 'http://10.96.0.10/cgi-bin/who', 20);
    expect(got.every((b) => b === 'backend-a 10.244.0.1' || b === 'backend-b 10.244.0.2')).toBe(true);
    expect(got).toContain('backend-a 10.244.0.1');
  });
});
