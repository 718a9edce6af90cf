import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseIpv4Cidr } from '../../../lib/ip.ts';
import type { Logger } from '../../../lib/log.ts';
import type { PluginInvoker } from '../../../plugins/cni/delegate.ts';
import type { Context } from '../../../plugins/cni/skeleton.ts';
import type { NetConf, Verb } from '../../../plugins/cni/types.ts';
import { parseVxlanCniConfig, type VxlanCniConfig } from '../../../plugins/vxlan/cni-config.ts';
import { createVxlanPlugin } from '../../../plugins/vxlan/cni-plugin.ts';
import { delegateFileName, saveDelegate } from '../../../plugins/vxlan/delegate-store.ts';
import { writeSubnetFile } from '../../../plugins/vxlan/subnet-file.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-vxlan-plugin-'));
  // findPlugin wants an executable in CNI_PATH; the recording invoker never runs it.
  mkdirSync(join(dir, 'bin'), { mode: 0o700 });
  writeFileSync(join(dir, 'bin', 'weft-bridge'), '#!/bin/sh\nexit 1\n', { mode: 0o700 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface Call {
  verb: string;
  conf: Record<string, unknown>;
}

function recorder(code = 0): { calls: Call[]; invoke: PluginInvoker } {
  const calls: Call[] = [];
  const invoke: PluginInvoker = async (_file, env, stdin) => {
    calls.push({ verb: env.CNI_COMMAND ?? '', conf: JSON.parse(stdin) as Record<string, unknown> });
    return { code, stdout: code === 0 ? '' : JSON.stringify({ code: 11, msg: 'delegate broke' }) };
  };
  return { calls, invoke };
}

function context(command: Verb, containerId = 'c1', ifname = 'eth0'): Context<VxlanCniConfig> {
  const conf: NetConf = { cniVersion: '1.1.0', name: 'cbr0', type: 'weft-vxlan', subnetFile: join(dir, 'subnet.env'), dataDir: join(dir, 'data') };
  return {
    request: { command, containerId, ifname, args: new Map(), path: [join(dir, 'bin')], depth: 0 },
    config: parseVxlanCniConfig(conf),
    conf,
    stdin: JSON.stringify(conf),
  };
}

const storedPath = (containerId: string, ifname = 'eth0') => join(dir, 'data', delegateFileName(containerId, ifname));

function writeSubnet(): void {
  writeSubnetFile(join(dir, 'subnet.env'), { network: parseIpv4Cidr('10.244.0.0/16')!, subnet: parseIpv4Cidr('10.244.3.1/24')!, mtu: 1450, ipMasq: true });
}

function silentLog(warnings: string[]): Logger {
  const log: Logger = { debug: () => {}, info: () => {}, warn: (msg) => warnings.push(msg), error: () => {}, with: () => log };
  return log;
}

describe('weft-vxlan DEL', () => {
  it('logs an unreadable stored config, releases with the current subnet and removes the file so later DELs succeed', async () => {
    writeSubnet();
    mkdirSync(join(dir, 'data'), { mode: 0o700 });
    writeFileSync(storedPath('c1'), 'not json', { mode: 0o600 });
    const { calls, invoke } = recorder();
    const warnings: string[] = [];
    const plugin = createVxlanPlugin({ invoke, log: silentLog(warnings) });
    await plugin.del(context('DEL'));
    expect(calls.map((c) => c.verb)).toEqual(['DEL']);
    expect(calls[0]!.conf.type).toBe('weft-bridge');
    expect(warnings).toEqual(['ignoring unreadable stored delegate config']);
    expect(existsSync(storedPath('c1'))).toBe(false);
    await plugin.del(context('DEL'));
    expect(calls).toHaveLength(1);
  });

  it('removes an unreadable stored config even when no subnet file is left to release with', async () => {
    mkdirSync(join(dir, 'data'), { mode: 0o700 });
    writeFileSync(storedPath('c1'), '{"containerId": 1}', { mode: 0o600 });
    const { calls, invoke } = recorder();
    await createVxlanPlugin({ invoke, log: silentLog([]) }).del(context('DEL'));
    expect(calls).toEqual([]);
    expect(existsSync(storedPath('c1'))).toBe(false);
  });
});

describe('weft-vxlan GC', () => {
  const stale = { containerId: 'gone', ifname: 'eth0', conf: { cniVersion: '1.1.0', name: 'cbr0', type: 'weft-bridge' } };

  it('keeps the stored configs of invalid attachments when the delegate GC fails', async () => {
    saveDelegate(join(dir, 'data'), stale);
    const { calls, invoke } = recorder(1);
    await expect(createVxlanPlugin({ invoke }).gc(context('GC'), [])).rejects.toThrow('delegate broke');
    expect(calls.map((c) => c.verb)).toEqual(['GC']);
    expect(existsSync(storedPath('gone'))).toBe(true);
  });

  it('removes the stored configs of invalid attachments only, after the delegate GC succeeded', async () => {
    saveDelegate(join(dir, 'data'), stale);
    saveDelegate(join(dir, 'data'), { ...stale, containerId: 'live' });
    const { calls, invoke } = recorder();
    await createVxlanPlugin({ invoke }).gc(context('GC'), [{ containerId: 'live', ifname: 'eth0' }]);
    expect(calls[0]!.conf['cni.dev/valid-attachments']).toEqual([{ containerID: 'live', ifname: 'eth0' }]);
    expect(existsSync(storedPath('gone'))).toBe(false);
    expect(existsSync(storedPath('live'))).toBe(true);
  });
});
