import { describe, expect, it } from 'vitest';
import { run } from '../../../lib/exec.ts';
import { delegate } from '../../../plugins/cni/delegate.ts';
import { UndoLog } from '../../../plugins/cni/undo.ts';
import { CniError, ErrorCode } from '../../../plugins/cni/errors.ts';
import { negotiateVersion, parseValidAttachments, runPlugin, type Plugin, type PluginIO } from '../../../plugins/cni/skeleton.ts';
import type { NetConf } from '../../../plugins/cni/types.ts';

function fakeIO(env: Record<string, string>, stdin: string): PluginIO & { out: string; errors: CniError[] } {
  const io = {
    env,
    out: '',
    errors: [] as CniError[],
    readStdin: async () => stdin,
    writeStdout: (text: string) => {
      io.out += text;
    },
    logError: (error: CniError) => {
      io.errors.push(error);
    },
  };
  return io;
}

const calls: string[] = [];
const plugin: Plugin<{ name: string }> = {
  parseConfig: (conf: NetConf) => {
    if (conf.bad) throw new CniError(ErrorCode.InvalidConfig, 'invalid config: "bad" is set');
    return { name: conf.name };
  },
  add: async () => {
    calls.push('ADD');
    return { cniVersion: '1.1.0', ips: [{ address: '10.1.0.5/24', gateway: '10.1.0.1' }], routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1', mtu: 1400 }] };
  },
  del: async () => void calls.push('DEL'),
  check: async () => void calls.push('CHECK'),
  status: async () => void calls.push('STATUS'),
  gc: async (_ctx, valid) => void calls.push(`GC:${valid.map((a) => a.containerId).join(',')}`),
};

const ENV = { CNI_CONTAINERID: 'abc123', CNI_NETNS: '/var/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };
const conf = (version: string, extra: object = {}) => JSON.stringify({ cniVersion: version, name: 'net1', type: 'test', ...extra });

describe('CNI skeleton', () => {
  it('answers VERSION with every supported version', async () => {
    const io = fakeIO({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}');
    expect(await runPlugin(plugin, io)).toBe(0);
    expect(JSON.parse(io.out)).toEqual({ cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });

  it.each([
    ['0.3.1', { version: '4', address: '10.1.0.5/24', gateway: '10.1.0.1' }, { dst: '0.0.0.0/0', gw: '10.1.0.1' }],
    ['0.4.0', { version: '4', address: '10.1.0.5/24', gateway: '10.1.0.1' }, { dst: '0.0.0.0/0', gw: '10.1.0.1' }],
    ['1.0.0', { address: '10.1.0.5/24', gateway: '10.1.0.1' }, { dst: '0.0.0.0/0', gw: '10.1.0.1' }],
    ['1.1.0', { address: '10.1.0.5/24', gateway: '10.1.0.1' }, { dst: '0.0.0.0/0', gw: '10.1.0.1', mtu: 1400 }],
  ])('renders an ADD result in the form of version %s', async (version, ip, route) => {
    const io = fakeIO({ ...ENV, CNI_COMMAND: 'ADD' }, conf(version));
    expect(await runPlugin(plugin, io)).toBe(0);
    const result = JSON.parse(io.out);
    expect(result.cniVersion).toBe(version);
    expect(result.ips).toEqual([ip]);
    expect(result.routes).toEqual([route]);
  });

  it('chooses the newest supported entry of cniVersions when cniVersion is absent', () => {
    expect(negotiateVersion({ cniVersions: ['0.3.1', '1.0.0', '9.9.9'] })).toBe('1.0.0');
  });

  it.each([
    ['garbage stdin', { ...ENV, CNI_COMMAND: 'ADD' }, 'not json', ErrorCode.DecodeFailure],
    ['an unsupported version', { ...ENV, CNI_COMMAND: 'ADD' }, conf('0.2.0'), ErrorCode.IncompatibleVersion],
    ['a missing CNI_CONTAINERID', { CNI_COMMAND: 'ADD', CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: '/p' }, conf('1.0.0'), ErrorCode.InvalidEnvironment],
    ['an unknown CNI_COMMAND', { ...ENV, CNI_COMMAND: 'FROB' }, conf('1.0.0'), ErrorCode.InvalidEnvironment],
    ['a container ID with a slash', { ...ENV, CNI_CONTAINERID: '../etc', CNI_COMMAND: 'ADD' }, conf('1.0.0'), ErrorCode.InvalidEnvironment],
    ['a missing CNI_NETNS on ADD', { ...ENV, CNI_NETNS: '', CNI_COMMAND: 'ADD' }, conf('1.0.0'), ErrorCode.InvalidEnvironment],
    ['a config the plugin rejects', { ...ENV, CNI_COMMAND: 'ADD' }, conf('1.0.0', { bad: true }), ErrorCode.InvalidConfig],
    ['a network name with a slash', { ...ENV, CNI_COMMAND: 'ADD' }, conf('1.0.0', { name: 'a/b' }), ErrorCode.InvalidConfig],
    ['CHECK on a 0.3.1 config', { ...ENV, CNI_COMMAND: 'CHECK' }, conf('0.3.1'), ErrorCode.IncompatibleVersion],
    ['GC on a 1.0.0 config', { CNI_COMMAND: 'GC', CNI_PATH: '/p' }, conf('1.0.0'), ErrorCode.IncompatibleVersion],
  ])('prints the spec error JSON and fails for %s', async (_name, env, stdin, code) => {
    const io = fakeIO(env as Record<string, string>, stdin);
    expect(await runPlugin(plugin, io)).toBe(1);
    const error = JSON.parse(io.out);
    expect(error.code).toBe(code);
    expect(typeof error.msg).toBe('string');
    expect(io.errors).toHaveLength(1);
  });

  it('lets DEL run without a netns', async () => {
    calls.length = 0;
    const io = fakeIO({ ...ENV, CNI_NETNS: '', CNI_COMMAND: 'DEL' }, conf('1.0.0'));
    expect(await runPlugin(plugin, io)).toBe(0);
    expect(calls).toEqual(['DEL']);
    expect(io.out).toBe('');
  });

  it('passes GC the valid attachments, accepting the older cni.dev/attachments key', async () => {
    calls.length = 0;
    const attachments = [{ containerID: 'c1', ifname: 'eth0' }];
    await runPlugin(plugin, fakeIO({ CNI_COMMAND: 'GC', CNI_PATH: '/p' }, conf('1.1.0', { 'cni.dev/valid-attachments': attachments })));
    await runPlugin(plugin, fakeIO({ CNI_COMMAND: 'GC', CNI_PATH: '/p' }, conf('1.1.0', { 'cni.dev/attachments': attachments })));
    expect(calls).toEqual(['GC:c1', 'GC:c1']);
  });

  it('rejects malformed valid attachments with code 7', () => {
    expect(() => parseValidAttachments({ cniVersion: '1.1.0', name: 'n', type: 't', 'cni.dev/valid-attachments': [{ ifname: 'eth0' }] })).toThrow(/containerID/);
  });
});

describe('CNI skeleton bounds every call', () => {
  it('fails a verb still running at its deadline with code 11, after undoing what it did', async () => {
    const undone: string[] = [];
    const hanging: Plugin<null> = {
      ...(plugin as unknown as Plugin<null>),
      parseConfig: () => null,
      add: async () => {
        const undo = new UndoLog();
        undo.record('remove the half-made interface', async () => void undone.push('interface'));
        try {
          // A child that never ends: the deadline kills it, and the ADD unwinds.
          await run('sleep', ['30']);
          throw new Error('sleep ended');
        } catch (thrown) {
          return undo.unwindAndThrow(thrown, { code: ErrorCode.NetlinkFailure, action: 'add' });
        }
      },
    };
    const io = fakeIO({ ...ENV, CNI_COMMAND: 'ADD', WEFT_CNI_TIMEOUT: '400ms' }, conf('1.1.0'));
    const started = Date.now();
    expect(await runPlugin(hanging, io)).toBe(1);
    expect(Date.now() - started).toBeLessThan(1500);
    const error = JSON.parse(io.out);
    expect(error.code).toBe(ErrorCode.TryAgainLater);
    expect(error.msg).toBe('cannot complete ADD within 400 ms (WEFT_CNI_TIMEOUT): try again later');
    expect(undone).toEqual(['interface']);
  });

  it('fails with code 11, not the killed program\'s error, when a spawn outlives the deadline while the event loop is held', async () => {
    const blocking: Plugin<null> = {
      ...(plugin as unknown as Plugin<null>),
      parseConfig: () => null,
      add: async () => {
        // The event loop is held past the deadline, then the program's kill is reported first.
        const end = Date.now() + 500;
        while (Date.now() < end);
        throw new CniError(ErrorCode.NetlinkFailure, 'cannot run "iptables-restore": killed by SIGKILL');
      },
    };
    const io = fakeIO({ ...ENV, CNI_COMMAND: 'ADD', WEFT_CNI_TIMEOUT: '400ms' }, conf('1.1.0'));
    expect(await runPlugin(blocking, io)).toBe(1);
    const error = JSON.parse(io.out);
    expect(error).toMatchObject({ code: ErrorCode.TryAgainLater, msg: 'cannot complete ADD within 400 ms (WEFT_CNI_TIMEOUT): try again later' });
    expect(error.details).toContain('killed by SIGKILL');
  });

  it.each([
    ['a container ID longer than 128 characters', { CNI_CONTAINERID: 'a'.repeat(222) }, 'invalid CNI_CONTAINERID: 222 characters long, at most 128'],
    ['an interface name in quotes, which ip -batch would strip', { CNI_IFNAME: "'eth1'" }, `invalid CNI_IFNAME "'eth1'": it holds "'"`],
    ['an interface name with a control character', { CNI_IFNAME: 'eth\u00011' }, 'invalid CNI_IFNAME "eth\\u00011": it holds a control character'],
    ['a namespace path with a space', { CNI_NETNS: '/var/run/netns/a b' }, 'invalid CNI_NETNS "/var/run/netns/a b"'],
    ['a timeout that is not a duration', { WEFT_CNI_TIMEOUT: '30' }, 'invalid WEFT_CNI_TIMEOUT "30"'],
    ['a delegation deeper than the bound', { WEFT_CNI_DEPTH: '4' }, 'cannot delegate deeper than 3 plugins'],
  ])('refuses %s up front, naming the variable', async (_, env, message) => {
    const io = fakeIO({ ...ENV, CNI_COMMAND: 'ADD', ...env }, conf('1.1.0'));
    expect(await runPlugin(plugin, io)).toBe(1);
    const error = JSON.parse(io.out);
    expect(error.code).toBe('WEFT_CNI_DEPTH' in env ? ErrorCode.InvalidConfig : ErrorCode.InvalidEnvironment);
    expect(error.msg).toContain(message);
  });

  it('refuses a network name longer than 64 characters with code 7 naming "name"', async () => {
    const io = fakeIO({ ...ENV, CNI_COMMAND: 'ADD' }, conf('1.1.0', { name: 'n'.repeat(254) }));
    expect(await runPlugin(plugin, io)).toBe(1);
    expect(JSON.parse(io.out)).toMatchObject({ code: ErrorCode.InvalidConfig, msg: expect.stringContaining('invalid config: "name" must be 1 to 64 letters') });
  });

  it('answers code 4 naming CNI_NETNS when a plugin that enters the namespace gets a path that does not exist', async () => {
    const io = fakeIO({ ...ENV, CNI_COMMAND: 'ADD', CNI_NETNS: '/var/run/netns/weft-test-absent' }, conf('1.1.0'));
    expect(await runPlugin({ ...plugin, entersNetns: true }, io)).toBe(1);
    expect(JSON.parse(io.out)).toMatchObject({ code: ErrorCode.InvalidEnvironment, msg: 'invalid CNI_NETNS "/var/run/netns/weft-test-absent": it does not exist' });
  });

  it('refuses a delegate that names the calling plugin instead of running itself without end', async () => {
    const request = { command: 'ADD' as const, containerId: 'c1', ifname: 'eth0', args: new Map(), path: ['/opt/cni/bin'], depth: 0 };
    await expect(delegate('weft-bridge', 'ADD', request, '{}', { caller: 'weft-bridge', field: 'ipam.type' })).rejects.toThrow('invalid config: "ipam.type" must name another plugin than the one it configures, got "weft-bridge"');
    await expect(delegate('weft-host-local', 'ADD', { ...request, depth: 3 }, '{}', { caller: 'weft-bridge', field: 'ipam.type' })).rejects.toThrow('3 plugins already delegate in this call');
  });
});
