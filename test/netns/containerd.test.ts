import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, runChecked } from '../../lib/exec.ts';
import { BUSYBOX_IMAGE, buildBusyboxImage } from '../support/busybox-image.ts';
import { REFERENCE_BIN_DIR, weftBinDir } from '../support/cni.ts';
import { importImage, startContainerd, type Containerd } from '../support/containerd.ts';
import { NetnsScope, RUN_ID, type Netns } from '../support/netns.ts';

// A real runtime drives the plugins: containerd + runc in a node namespace, `ctr run --cni` with a
// conflist of bridge + host-local. The same harness runs the reference plugins (proving the harness)
// and ours.

const ROOT = resolve(import.meta.dirname, '../..');
const weftBinary = join(ROOT, 'dist/bin/weft');
const weftPluginsExist = ['plugins/bridge/main.ts', 'plugins/host-local/main.ts'].every((file) => existsSync(join(ROOT, file)));

// containerd 1.6's libcni reads results up to 1.0.0 ("unsupported CNI result version \"1.1.0\"");
// 1.1.0 conflists need containerd 2.x. Both plugin sets answer 1.0.0 as asked.
const CONFLIST_VERSION = '1.0.0';

interface PluginSet {
  name: string;
  bridge: string;
  ipam: string;
  /** The directory bind-mounted over /opt/cni/bin; made in beforeAll. */
  binDir: () => string;
  available: boolean;
  /** Keeps the bridge names of the two sets apart; with the run id it makes a name under 15 chars. */
  index: number;
  subnet: string;
  gateway: string;
}

const PLUGIN_SETS: PluginSet[] = [
  { name: 'reference bridge + host-local', bridge: 'bridge', ipam: 'host-local', binDir: () => REFERENCE_BIN_DIR, available: true, index: 0, subnet: '10.99.10.0/24', gateway: '10.99.10.1' },
  { name: 'weft-bridge + weft-host-local', bridge: 'weft-bridge', ipam: 'weft-host-local', binDir: () => weftBin, available: weftPluginsExist, index: 1, subnet: '10.99.11.0/24', gateway: '10.99.11.1' },
];

const scope = new NetnsScope();
let node: Netns;
let containerd: Containerd;
let work: string;
let weftBin: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), `weft-ctrd-${RUN_ID}-`));
  weftBin = weftBinDir();
  node = await scope.create('ctrd-node');
  containerd = await startContainerd(node.path, join(work, 'containerd'));
  const imageDir = join(work, 'image');
  mkdirSync(imageDir, { mode: 0o700 });
  await importImage(containerd, await buildBusyboxImage(imageDir));
});

afterAll(async () => {
  await containerd?.stop();
  await scope.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
  // Without WEFT_BIN_DIR, weftBinDir made a temporary directory of wrappers.
  if (weftBin && !process.env.WEFT_BIN_DIR) rmSync(weftBin, { recursive: true, force: true });
});

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`cannot observe ${what}: not true after ${timeoutMs} ms`);
}

async function nodeVeths(): Promise<string> {
  return (await node.exec('ip', ['-o', 'link', 'show', 'type', 'veth'])).trim();
}

describe.each(PLUGIN_SETS)('a container started by containerd with $name', (set) => {
  const bridgeName = `wb${RUN_ID}c${set.index}`;
  const network = `weft-ctrd-${set.index}`;
  const id = `pod-${set.index}`;
  let ipamDir: string;
  let podAddress: string;

  it.skipIf(!set.available)('gets an address from the range, reaches its gateway, and loses both after kill and removal', async () => {
    const dir = join(work, `cni-${set.index}`);
    const confDir = join(dir, 'net.d');
    ipamDir = join(dir, 'ipam');
    mkdirSync(confDir, { recursive: true, mode: 0o700 });
    writeFileSync(
      join(confDir, '10-weft.conflist'),
      JSON.stringify({
        cniVersion: CONFLIST_VERSION,
        name: network,
        plugins: [{ type: set.bridge, bridge: bridgeName, isGateway: true, ipam: { type: set.ipam, ranges: [[{ subnet: set.subnet, gateway: set.gateway }]], dataDir: ipamDir } }],
      }),
      { mode: 0o600 },
    );

    const ctrRun = containerd.runWithCni(BUSYBOX_IMAGE, id, ['sleep', '300'], { confDir, binDir: set.binDir() });
    let ctrExited = false;
    void ctrRun.exited.then(() => {
      ctrExited = true;
    });
    await waitUntil(`task "${id}" running`, async () => {
      if (ctrExited) throw new Error(`cannot run container: ${(await ctrRun.exited).stderr}`);
      return / RUNNING/.test((await containerd.ctr(['tasks', 'list'])).stdout.split('\n').find((line) => line.startsWith(`${id} `)) ?? '');
    });

    const addr = await containerd.exec(id, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    expect(addr.code, addr.stderr).toBe(0);
    podAddress = /inet (\d+\.\d+\.\d+\.\d+)\/24/.exec(addr.stdout)?.[1] ?? '';
    expect(podAddress.startsWith(set.subnet.slice(0, set.subnet.lastIndexOf('.') + 1))).toBe(true);
    expect(existsSync(join(ipamDir, network, podAddress))).toBe(true);

    const ping = await containerd.exec(id, ['ping', '-c', '2', '-W', '2', set.gateway]);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    expect(ping.stdout).toMatch(/2 packets received/);
    const hostVeths = [...(await nodeVeths()).matchAll(/^\d+: ([^@:]+)/gm)].map((m) => m[1] as string);
    expect(hostVeths).toHaveLength(1);
    const rootLinks = (await run('ip', ['-o', 'link', 'show'])).stdout;
    for (const name of [bridgeName, ...hostVeths]) expect(rootLinks, `"${name}" stays out of the root namespace`).not.toMatch(new RegExp(`^\\d+: ${name}[@:]`, 'm'));

    await containerd.ctr(['tasks', 'kill', '--signal', 'SIGKILL', id]);
    const exited = await Promise.race([ctrRun.exited, new Promise<undefined>((r) => setTimeout(r, 15_000, undefined))]);
    expect(exited, 'ctr run exits after the task is killed').toBeDefined();
    expect((await containerd.ctr(['containers', 'delete', id])).code).toBe(0);

    expect(existsSync(join(ipamDir, network, podAddress))).toBe(false);
    expect(readdirSync(join(ipamDir, network)).filter((name) => /^\d/.test(name))).toEqual([]);
    expect(await nodeVeths()).toBe('');
  });
});

describe('the DaemonSet image (npm run image) imported into containerd', () => {
  // Extensions iptables loads with dlopen (comment, statistic, DNAT) prove the copied libraries are complete.
  // Debian's busybox sh runs its own applets before PATH, so ip and nsenter are called by full path.
  const script = [
    'set -e',
    'CNI_COMMAND=VERSION weft-host-local </dev/null',
    '/usr/bin/ip -V',
    'iptables -t nat -N WEFT-IMG',
    'iptables -t nat -A WEFT-IMG -p tcp -m comment --comment img -m statistic --mode random --probability 0.5 -j DNAT --to-destination 10.99.12.1:80',
    'iptables-legacy -t nat -N WEFT-IMG',
    'nft add table ip weft_img',
    'conntrack --version',
    '/usr/bin/nsenter --version',
    'cp -a /opt/weft/cni/. /tmp/install && ls -i /tmp/install',
    'weft-proxy --help > /dev/null',
    'test -f /opt/weft/bin/weft-netlink.node',
  ].join('; ');

  it.skipIf(!existsSync(weftBinary))('runs every command, ip, iptables (nft and legacy), nft, conntrack, nsenter and the install copy', async () => {
    const image = join(work, 'weft-image.tar');
    await runChecked(process.execPath, [join(ROOT, 'build/image.ts'), '--name', 'weft.test/weft:dev', '--output', image]);
    await importImage(containerd, image);
    const result = await containerd.run('weft.test/weft:dev', 'image-check', ['sh', '-c', script], { privileged: true });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('"supportedVersions"');
    expect(result.stdout).toMatch(/ip utility, iproute2/);
    const installed = [...result.stdout.matchAll(/^\s*(\d+) (weft[\w-]*)$/gm)];
    expect(installed.map((m) => m[2]).sort(), 'the CNI plugins are installed, the daemons are not').toEqual(['weft-bridge', 'weft-cni', 'weft-host-local', 'weft-vxlan']);
    expect(new Set(installed.map((m) => m[1])).size, 'the installed commands are one file').toBe(1);
    expect(result.stdout, 'the netlink addon is installed beside them').toMatch(/^\s*\d+ weft-netlink\.node$/m);
  });
});
