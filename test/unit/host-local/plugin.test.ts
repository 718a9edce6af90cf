import { describe, expect, it } from 'vitest';
import type { CniError } from '../../../plugins/cni/errors.ts';
import { runPlugin } from '../../../plugins/cni/skeleton.ts';
import { createHostLocalPlugin } from '../../../plugins/host-local/plugin.ts';
import { MemoryStore } from './memory-store.ts';

// The verbs end to end through the CNI skeleton, over the in-memory store.

interface Call {
  command: 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC';
  containerId?: string;
  ifname?: string;
  cniArgs?: string;
  version?: string;
  ipam?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

const SLASH29 = { ranges: [[{ subnet: '10.1.0.0/29' }]] };

function harness(files: Record<string, string> = {}) {
  const store = new MemoryStore();
  const plugin = createHostLocalPlugin({
    openStore: () => store,
    readFile: (path) => {
      if (!(path in files)) throw Object.assign(new Error(`ENOENT: no such file "${path}"`), { code: 'ENOENT' });
      return files[path]!;
    },
  });
  async function call(c: Call): Promise<{ code: number; json: any }> {
    let out = '';
    const env: Record<string, string> = {
      CNI_COMMAND: c.command,
      CNI_CONTAINERID: c.containerId ?? 'c1',
      CNI_IFNAME: c.ifname ?? 'eth0',
      CNI_NETNS: '/var/run/netns/x',
      CNI_PATH: '/opt/cni/bin',
      ...(c.cniArgs ? { CNI_ARGS: c.cniArgs } : {}),
    };
    const stdin = JSON.stringify({ cniVersion: c.version ?? '1.1.0', name: 'net1', type: 'weft-host-local', ipam: { type: 'weft-host-local', ...(c.ipam ?? SLASH29) }, ...c.extra });
    const code = await runPlugin(plugin, { env, readStdin: async () => stdin, writeStdout: (t) => void (out += t), logError: (_e: CniError) => {} });
    return { code, json: out ? JSON.parse(out) : undefined };
  }
  const add = async (containerId: string, extra: Partial<Call> = {}) => call({ command: 'ADD', containerId, ...extra });
  return { store, call, add };
}

describe('host-local verbs', () => {
  it('ADD returns the address with the subnet\'s prefix, the gateway, the routes, and no interfaces', async () => {
    const { add } = harness();
    const { code, json } = await add('c1', { ipam: { ...SLASH29, routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }] } });
    expect(code).toBe(0);
    expect(json).toEqual({ cniVersion: '1.1.0', ips: [{ address: '10.1.0.2/29', gateway: '10.1.0.1' }], routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }], dns: {} });
  });

  it('allocates round robin: a released address is not reused until the pool wraps', async () => {
    const { add, call, store } = harness();
    await add('a');
    await add('b');
    await call({ command: 'DEL', containerId: 'a' });
    expect((await add('c')).json.ips[0].address).toBe('10.1.0.4/29');
    expect(store.addresses()).toEqual(['10.1.0.3', '10.1.0.4']);
  });

  it('exhausts a /29 after five addresses with code 101 naming the range, allocating nothing', async () => {
    const { add, store } = harness();
    for (const id of ['a', 'b', 'c', 'd', 'e']) expect((await add(id)).code).toBe(0);
    const { code, json } = await add('f');
    expect(code).toBe(1);
    expect(json.code).toBe(101);
    expect(json.msg).toBe('cannot allocate from range set 0 10.1.0.0/29 (10.1.0.1-10.1.0.6): every address is taken');
    expect(store.addresses()).toHaveLength(5);
  });

  it('gives one address from each range set (IPv4 and IPv6)', async () => {
    const { add } = harness();
    const { json } = await add('a', { ipam: { ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: 'fd00::/64', gateway: 'fd00::fffe' }]] } });
    expect(json.ips).toEqual([
      { address: '10.1.0.2/24', gateway: '10.1.0.1' },
      { address: 'fd00::1/64', gateway: 'fd00::fffe' },
    ]);
  });

  it('never counts a taken IPv4 address as taken in an IPv6 set with the same numeric value', async () => {
    const { add } = harness();
    const ipam = { ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: '::a01:0/120' }]] };
    await add('a', { ipam });
    await add('b', { ipam, cniArgs: 'IP=10.1.0.4' });
    // 10.1.0.4 is 0x0a010004, the value of ::a01:4, the IPv6 set's next candidate.
    expect((await add('c', { ipam })).json.ips.map((ip: { address: string }) => ip.address)).toEqual(['10.1.0.5/24', '::a01:4/120']);
  });

  it('releases the first range set\'s address when the second range set is exhausted', async () => {
    const { add, store } = harness();
    const ipam = { ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: '10.2.0.0/24', rangeStart: '10.2.0.5', rangeEnd: '10.2.0.5' }]] };
    expect((await add('a', { ipam })).code).toBe(0);
    const { json } = await add('b', { ipam });
    expect(json.code).toBe(101);
    expect(store.addresses()).toEqual(['10.1.0.2', '10.2.0.5']);
  });

  it('releases what it reserved when the store fails mid-ADD', async () => {
    const { add, store } = harness();
    store.failReserveAfter = 1;
    const { json } = await add('a', { ipam: { ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: 'fd00::/64' }]] } });
    expect(json.code).toBe(5);
    expect(json.msg).toBe('cannot allocate an address: disk full');
    expect(store.addresses()).toEqual([]);
  });

  it('returns the existing address on a repeated ADD of the same attachment (the reference hands out a second one)', async () => {
    const { add, store } = harness();
    const first = await add('a');
    const second = await add('a');
    expect(second.json.ips).toEqual(first.json.ips);
    expect(store.addresses()).toEqual(['10.1.0.2']);
    expect((await add('a', { ifname: 'net1' })).json.ips[0].address).toBe('10.1.0.3/29');
  });

  it('reserves a requested address from CNI_ARGS, runtimeConfig or args', async () => {
    const { add } = harness();
    expect((await add('a', { cniArgs: 'IgnoreUnknown=1;IP=10.1.0.5' })).json.ips[0].address).toBe('10.1.0.5/29');
    expect((await add('b', { extra: { runtimeConfig: { ips: ['10.1.0.4/29'] } } })).json.ips[0].address).toBe('10.1.0.4/29');
    expect((await add('c', { extra: { args: { cni: { ips: ['10.1.0.3'] } } } })).json.ips[0].address).toBe('10.1.0.3/29');
    // Round robin continues after the last reservation, requested or not.
    expect((await add('d')).json.ips[0].address).toBe('10.1.0.6/29');
  });

  it('fails with code 101 when a requested address is taken, holding nothing for the container', async () => {
    const { add, store } = harness();
    await add('a');
    const ipam = { ranges: [[{ subnet: 'fd00::/64' }], [{ subnet: '10.1.0.0/29' }]] };
    const { json } = await add('b', { ipam, cniArgs: 'IP=10.1.0.2' });
    expect(json).toMatchObject({ code: 101, msg: 'cannot reserve requested address "10.1.0.2": it is taken' });
    expect(store.addresses()).toEqual(['10.1.0.2']);
  });

  it('puts the resolvConf file into the result\'s dns', async () => {
    const { add } = harness({ '/etc/weft/resolv.conf': 'nameserver 10.96.0.10\nsearch svc.cluster.local\n' });
    const { json } = await add('a', { ipam: { ...SLASH29, resolvConf: '/etc/weft/resolv.conf' } });
    expect(json.dns).toEqual({ nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] });
  });

  it('fails ADD with code 5 when resolvConf cannot be read, allocating nothing', async () => {
    const { add, store } = harness();
    const { json } = await add('a', { ipam: { ...SLASH29, resolvConf: '/missing' } });
    expect(json.code).toBe(5);
    expect(json.msg).toContain('cannot read resolvConf "/missing"');
    expect(store.addresses()).toEqual([]);
  });

  it('DEL releases every address of the attachment and nothing else; a second DEL succeeds', async () => {
    const { add, call, store } = harness();
    const ipam = { ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: 'fd00::/64' }]] };
    await add('a', { ipam });
    await add('b', { ipam });
    await add('a', { ipam, ifname: 'net1' });
    expect((await call({ command: 'DEL', containerId: 'a', ipam })).code).toBe(0);
    expect(store.list().map((a) => `${a.owner!.containerId}/${a.owner!.ifname}`).sort()).toEqual(['a/net1', 'a/net1', 'b/eth0', 'b/eth0']);
    expect((await call({ command: 'DEL', containerId: 'a', ipam })).code).toBe(0);
  });

  it('CHECK succeeds for a held attachment and fails with 104 for one that holds nothing', async () => {
    const { add, call } = harness();
    await add('a');
    expect((await call({ command: 'CHECK', containerId: 'a' })).code).toBe(0);
    const { json } = await call({ command: 'CHECK', containerId: 'z' });
    expect(json.code).toBe(104);
    expect(json.msg).toContain('container "z" interface "eth0"');
  });

  it('STATUS succeeds while an address is free and fails with 50 naming the full range', async () => {
    const { add, call } = harness();
    const ipam = { ranges: [[{ subnet: '10.1.0.0/24', rangeStart: '10.1.0.10', rangeEnd: '10.1.0.11' }]] };
    await add('a', { ipam });
    expect((await call({ command: 'STATUS', ipam })).code).toBe(0);
    await add('b', { ipam });
    const { json } = await call({ command: 'STATUS', ipam });
    expect(json).toMatchObject({ code: 50, msg: 'cannot allocate from range set 0 10.1.0.0/24 (10.1.0.10-10.1.0.11): every address is taken' });
  });

  it('GC releases allocations of attachments not listed as valid and keeps the listed ones', async () => {
    const { add, call, store } = harness();
    for (const id of ['a', 'b', 'c']) await add(id);
    const valid = [{ containerID: 'b', ifname: 'eth0' }];
    expect((await call({ command: 'GC', extra: { 'cni.dev/valid-attachments': valid } })).code).toBe(0);
    expect(store.list().map((a) => a.owner!.containerId)).toEqual(['b']);
  });

  it('GC accepts the older cni.dev/attachments key', async () => {
    const { add, call, store } = harness();
    for (const id of ['a', 'b']) await add(id);
    await call({ command: 'GC', extra: { 'cni.dev/attachments': [{ containerID: 'a', ifname: 'eth0' }] } });
    expect(store.list().map((a) => a.owner!.containerId)).toEqual(['a']);
  });

  it('GC keeps going past a failed release and reports the first failure', async () => {
    const { add, call, store } = harness();
    for (const id of ['a', 'b', 'c']) await add(id);
    const release = store.release.bind(store);
    store.release = (ip) => {
      if (ip.value % 2n === 0n) throw new Error('read-only file system');
      release(ip);
    };
    const { json } = await call({ command: 'GC', extra: { 'cni.dev/valid-attachments': [] } });
    expect(json).toMatchObject({ code: 5, msg: 'cannot release "10.1.0.2": read-only file system' });
    expect(store.addresses()).toEqual(['10.1.0.2', '10.1.0.4']);
  });

  it.each([
    ['0.3.0', { version: '4', address: '10.1.0.2/29', gateway: '10.1.0.1' }],
    ['0.3.1', { version: '4', address: '10.1.0.2/29', gateway: '10.1.0.1' }],
    ['0.4.0', { version: '4', address: '10.1.0.2/29', gateway: '10.1.0.1' }],
    ['1.0.0', { address: '10.1.0.2/29', gateway: '10.1.0.1' }],
    ['1.1.0', { address: '10.1.0.2/29', gateway: '10.1.0.1' }],
  ])('renders the ADD result in the form of version %s', async (version, ip) => {
    const { json } = await harness().add('a', { version });
    expect(json).toEqual({ cniVersion: version, ips: [ip], dns: {} });
  });
});
