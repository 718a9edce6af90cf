import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run, runInBackground, type BackgroundProcess } from '../../lib/exec.ts';
import { startComponent, stopComponent, type Component } from '../../lab/kube/component-process.ts';
import type { Netns, NetnsScope } from '../support/netns.ts';

// A node for proxy tests: a namespace reaching the control plane over a veth, a bridge with pod
// namespaces behind it (busybox httpd on TCP 8080 and a UDP responder on 5353, each answering its own
// name), and weft-proxy running in the node namespace. The node itself is the client: its OUTPUT
// chain goes through the proxy's rules like a pod's traffic through PREROUTING.

export const CONTROL_PLANE_IP = '10.123.0.1';
export const NODE_IP = '10.123.0.2';
export const NODE_NAME = 'node-a';
export const POD_GATEWAY = '10.244.1.1';
export const SERVICE_CIDR = '10.96.0.0/16';
export const HTTP_PORT = 8080;
export const UDP_PORT = 5353;

const WEFT_ENTRY = resolve(import.meta.dirname, '../../bin/weft.ts');

export interface Pod {
  readonly name: string;
  readonly ip: string;
  readonly netns: Netns;
}

/** The control plane's namespace and the node's, joined by a veth. */
export async function createNode(scope: NetnsScope): Promise<{ cp: Netns; node: Netns }> {
  const cp = await scope.create('cp');
  const node = await scope.create('node');
  await cp.exec('ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.name]);
  await cp.exec('ip', ['addr', 'add', `${CONTROL_PLANE_IP}/24`, 'dev', 'eth0']);
  await cp.exec('ip', ['link', 'set', 'eth0', 'up']);
  await node.exec('ip', ['-batch', '-'], [
    `addr add ${NODE_IP}/24 dev eth0`,
    'link set eth0 up',
    'link add br0 type bridge',
    `addr add ${POD_GATEWAY}/24 dev br0`,
    'link set br0 up',
    // Service addresses need a route for the node's own packets to reach the OUTPUT nat hook.
    `route add ${SERVICE_CIDR} dev br0`,
  ].join('\n') + '\n');
  return { cp, node };
}

/** A pod namespace on the node's bridge, serving its name over HTTP and UDP until the namespace goes. */
export async function createPod(scope: NetnsScope, node: Netns, options: { name: string; ip: string; index: number }): Promise<{ pod: Pod; servers: BackgroundProcess[]; dir: string }> {
  const netns = await scope.create(options.name);
  const host = `v${options.index}`;
  await node.exec('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns.name]);
  await node.exec('ip', ['link', 'set', host, 'master', 'br0', 'up']);
  await netns.exec('ip', ['-batch', '-'], `addr add ${options.ip}/24 dev eth0\nlink set eth0 up\nroute add default via ${POD_GATEWAY}\n`);
  const dir = mkdtempSync(join(tmpdir(), `weft-pod-${options.name}-`));
  writeFileSync(join(dir, 'index.html'), options.name, { mode: 0o600 });
  const udp = `const d=require('node:dgram').createSocket('udp4');d.on('message',(m,r)=>d.send(${JSON.stringify(options.name)},r.port,r.address));d.bind(${UDP_PORT});`;
  const servers = [
    runInBackground('busybox', ['httpd', '-f', '-p', String(HTTP_PORT), '-h', dir], { netns: netns.path }),
    runInBackground(process.execPath, ['-e', udp], { netns: netns.path }),
  ];
  return { pod: { name: options.name, ip: options.ip, netns }, servers, dir };
}

export function removePodFiles(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** weft-proxy in the node namespace: the built executable when WEFT_BIN_DIR is set, else the sources. */
export function startWeftProxy(node: Netns, args: readonly string[]): Component {
  const [file, argv] = process.env.WEFT_BIN_DIR
    ? [join(resolve(process.env.WEFT_BIN_DIR), 'weft-proxy'), args]
    : [process.execPath, [WEFT_ENTRY, 'weft-proxy', ...args]];
  return startComponent('weft-proxy', file, argv, { netns: node.path });
}

export async function stopWeftProxy(proxy: Component): Promise<string> {
  await stopComponent(proxy);
  return (await proxy.process.exited).stderr;
}

export interface HttpAnswer {
  /** curl's exit code: 0 answered, 7 refused (REJECT), 28 timed out. */
  readonly code: number;
  readonly body: string;
  readonly ms: number;
}

export async function httpGet(node: Netns, url: string, maxTimeS = 1): Promise<HttpAnswer> {
  const started = performance.now();
  const result = await run('curl', ['-sS', '--max-time', String(maxTimeS), url], { netns: node.path });
  return { code: result.code, body: result.stdout.trim(), ms: performance.now() - started };
}

/** Polls `probe` until `done` holds, at most `attempts` times `intervalMs` apart; returns the last value. */
export async function pollUntil<T>(probe: () => Promise<T>, done: (value: T) => boolean, options: { attempts: number; intervalMs: number }): Promise<T> {
  let value = await probe();
  for (let i = 1; i < options.attempts && !done(value); i++) {
    await new Promise((r) => setTimeout(r, options.intervalMs));
    value = await probe();
  }
  return value;
}

/**
 * A UDP client in the node namespace sending `count` datagrams from one fixed source port, `intervalMs`
 * apart, to ip:port; resolves with every reply as [time ms, responder name].
 */
export function udpConversation(node: Netns, target: { ip: string; port: number }, options: { sourcePort: number; count: number; intervalMs: number }): Promise<[number, string][]> {
  const script = `const d=require('node:dgram').createSocket('udp4');const out=[];
d.on('message',(m)=>out.push([Date.now(),m.toString()]));
d.bind(${options.sourcePort},()=>{let n=0;const t=setInterval(()=>{d.send('q',${target.port},${JSON.stringify(target.ip)});
if(++n>=${options.count}){clearInterval(t);setTimeout(()=>{process.stdout.write(JSON.stringify(out));d.close();},300);}},${options.intervalMs});});`;
  return run(process.execPath, ['-e', script], { netns: node.path, timeoutMs: options.count * options.intervalMs + 10_000 }).then((r) => {
    if (r.code !== 0) throw new Error(`cannot run the UDP client: exit ${r.code}: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout) as [number, string][];
  });
}
