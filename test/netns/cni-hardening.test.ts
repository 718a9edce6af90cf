import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { callCni, weftBinDir, type CniOutcome } from '../support/cni.ts';
import { NetnsScope, type Netns } from '../support/netns.ts';

// The inputs of issue 10 that once leaked a device, hung a plugin or poisoned GC, each run through
// the real executables in a node namespace: every one now fails up front with the spec's error
// naming the variable or field, within its deadline, and leaves nothing behind.

const scope = new NetnsScope();
const dirs: string[] = [];
let counter = 0;
afterEach(() => scope.cleanup());
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-hardening-'));
  dirs.push(dir);
  return dir;
}

async function setup(): Promise<{ node: Netns; pod: Netns; dataDir: string; conf: (extra?: Record<string, unknown>, ipam?: Record<string, unknown>) => Record<string, unknown> }> {
  const id = ++counter;
  const node = await scope.create(`hd${id}`);
  const pod = await scope.create(`hd${id}p`);
  const dataDir = tempDir();
  return {
    node,
    pod,
    dataDir,
    conf: (extra = {}, ipam = {}) => ({ cniVersion: '1.1.0', name: 'hardnet', type: 'weft-bridge', bridge: 'hbr0', isGateway: true, ...extra, ipam: { type: 'weft-host-local', dataDir, subnet: '10.91.0.0/24', ...ipam } }),
  };
}

function add(n: { node: Netns; pod: Netns }, config: unknown, env: { containerId?: string; ifname?: string; netns?: string; extraEnv?: Record<string, string>; binDir?: string } = {}): Promise<CniOutcome> {
  const binDir = env.binDir ?? weftBinDir();
  return callCni({ binDir, cniPath: `${binDir}:${weftBinDir()}`, plugin: 'weft-bridge', command: 'ADD', config, containerId: env.containerId ?? 'hard-1', ifname: env.ifname ?? 'eth0', netns: env.netns ?? n.pod.path, nodeNetns: n.node.path, ...(env.extraEnv ? { extraEnv: env.extraEnv } : {}) });
}

async function nodeLinks(node: Netns): Promise<string[]> {
  return JSON.parse(await node.exec('ip', ['-j', 'link', 'show'])).map((l: { ifname: string }) => l.ifname);
}

function allocations(dataDir: string): string[] {
  try {
    return readdirSync(join(dataDir, 'hardnet')).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
  } catch {
    return [];
  }
}

async function expectNothingLeft(n: { node: Netns; pod: Netns; dataDir: string }): Promise<void> {
  expect((await nodeLinks(n.node)).filter((name) => name.startsWith('weft'))).toEqual([]);
  expect(await nodeLinks(n.pod)).toEqual(['lo']);
  expect(allocations(n.dataDir)).toEqual([]);
}

describe('weft-bridge refuses what once leaked a veth (ip -batch stopping while parsing)', () => {
  it.each([
    ['a 222-character container ID', { containerId: 'c'.repeat(222) }, {}, 4, 'CNI_CONTAINERID'],
    ['a 254-character network name', {}, { name: 'n'.repeat(254) }, 7, '"name"'],
    ['CNI_IFNAME "eth1" in double quotes', { ifname: '"eth1"' }, {}, 4, 'CNI_IFNAME'],
  ])('ADD with %s fails with code %s naming it and leaves no veth and no address', async (_, env, extra, code, names) => {
    const n = await setup();
    const outcome = await add(n, n.conf(extra), env);
    expect(outcome.json).toMatchObject({ code, msg: expect.stringContaining(names) });
    await expectNothingLeft(n);
  });
});

describe('names are what the kernel, ip and iptables-save read back', () => {
  it("refuses CNI_IFNAME 'eth1' (ip -batch would strip the quotes) with code 4", async () => {
    const n = await setup();
    expect((await add(n, n.conf({ ipMasq: true }), { ifname: "'eth1'" })).json).toMatchObject({ code: 4, msg: expect.stringContaining('CNI_IFNAME') });
    await expectNothingLeft(n);
    expect(await n.node.exec('iptables-save', ['-t', 'nat'])).not.toContain('weft-bridge');
  });

  it.each([['"x"'], ['br\u0001x'], ['br#x'], ['br%d']])('refuses bridge %j with code 7 and creates no bridge', async (bridge) => {
    const n = await setup();
    expect((await add(n, n.conf({ bridge }))).json).toMatchObject({ code: 7, msg: expect.stringContaining('"bridge"') });
    expect(await nodeLinks(n.node)).toEqual(['lo']);
  });

  it('keeps GC of the node working when a link there has a control character in its name', async () => {
    const n = await setup();
    await n.node.exec('ip', ['link', 'add', 'br\u0001x', 'type', 'bridge']);
    const gc = await callCni({ binDir: weftBinDir(), plugin: 'weft-bridge', command: 'GC', config: { ...n.conf(), 'cni.dev/valid-attachments': [] }, nodeNetns: n.node.path });
    expect(gc.code, gc.stdout).toBe(0);
  });
});

describe('no config hangs a plugin', () => {
  it('refuses an ipam.type naming the calling plugin at once instead of delegating to itself', async () => {
    const n = await setup();
    const started = Date.now();
    expect((await add(n, n.conf({}, { type: 'weft-bridge' }))).json).toMatchObject({ code: 7, msg: expect.stringContaining('"ipam.type" must name another plugin') });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it.each([
    ['a dataDir under /proc', { dataDir: '/proc/sys/net/weft-test' }, 'it is on proc'],
    ['a resolvConf that is a device', { resolvConf: '/dev/zero' }, 'it is a device, not a regular file'],
  ])('fails at once with code 5 for %s', async (_, ipam, message) => {
    const n = await setup();
    const started = Date.now();
    expect((await add(n, n.conf({}, ipam))).json).toMatchObject({ code: 5, msg: expect.stringContaining(message) });
    expect(Date.now() - started).toBeLessThan(10_000);
    await expectNothingLeft(n);
  });

  it('fails with code 11 when a call outlives WEFT_CNI_TIMEOUT, and undoes what it made', async () => {
    const n = await setup();
    // An iptables-restore that never returns, first on the plugin's PATH: the masquerade step hangs.
    const slow = tempDir();
    writeFileSync(join(slow, 'iptables-restore'), '#!/bin/sh\nexec sleep 60\n');
    chmodSync(join(slow, 'iptables-restore'), 0o755);
    const started = Date.now();
    const outcome = await add(n, n.conf({ ipMasq: true }), { extraEnv: { PATH: `${slow}:${process.env.PATH}`, WEFT_CNI_TIMEOUT: '3s' } });
    expect(Date.now() - started).toBeLessThan(3_000 + 2_000);
    expect(outcome.json).toMatchObject({ code: 11, msg: 'cannot complete ADD within 3000 ms (WEFT_CNI_TIMEOUT): try again later' });
    await expectNothingLeft(n);
  });
});

describe('the runtime\'s mistakes are named', () => {
  it('answers code 4 naming CNI_NETNS for a namespace path that does not exist', async () => {
    const n = await setup();
    expect((await add(n, n.conf(), { netns: '/var/run/netns/weft-no-such-netns' })).json).toEqual({
      cniVersion: '1.1.0',
      code: 4,
      msg: 'invalid CNI_NETNS "/var/run/netns/weft-no-such-netns": it does not exist',
      details: '',
    });
    await expectNothingLeft(n);
  });
});
