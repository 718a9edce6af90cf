import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIp } from '../../lib/ip.ts';
import { WRITE_GRACE_MS } from '../../plugins/host-local/store.ts';
import { callCni, REFERENCE_BIN_DIR, startCni, weftBinDir, type CniCall, type CniOutcome } from '../support/cni.ts';
import { NetnsScope, type Netns } from '../support/netns.ts';

// weft-host-local run as a runtime runs it: one process per call, inside a node namespace, with the pod's
// namespace as CNI_NETNS. Where the reference host-local (Go, 1.1.1) shares a behaviour, the same case runs
// against it too, so differences show; intended differences are named in the tests.

interface Implementation {
  name: 'weft' | 'reference';
  plugin: string;
  /** The newest version each speaks: the reference 1.1.1 stops at 1.0.0. */
  version: string;
  binDir(): string;
}

const scope = new NetnsScope();
let dataRoot: string;
// Node's compile cache keeps the stripped TypeScript, so source-mode calls do not strip it again each time.
let compileCache: string;
let node: Netns;
let pod: Netns;
let weftDir: string;

const IMPLEMENTATIONS: Implementation[] = [
  { name: 'weft', plugin: 'weft-host-local', version: '1.1.0', binDir: () => weftDir },
  { name: 'reference', plugin: 'host-local', version: '1.0.0', binDir: () => REFERENCE_BIN_DIR },
];
const WEFT = IMPLEMENTATIONS[0]!;

beforeAll(async () => {
  dataRoot = mkdtempSync(join(tmpdir(), 'weft-hl-data-'));
  compileCache = mkdtempSync(join(tmpdir(), 'weft-hl-ccache-'));
  weftDir = weftBinDir();
  node = await scope.create('hl-node');
  pod = await scope.create('hl-pod');
  // Fills the compile cache once, so the 100 parallel ADDs measure allocation rather than 100 cold compiles.
  await callCni({ ...request(WEFT, network(WEFT, SLASH29), { command: 'VERSION' }), config: { cniVersion: '1.1.0' } });
});

afterAll(async () => {
  await scope.cleanup();
  rmSync(dataRoot, { recursive: true, force: true });
  rmSync(compileCache, { recursive: true, force: true });
});

interface Network {
  config: Record<string, unknown>;
  /** The network's allocation directory. */
  dir: string;
}

let networks = 0;
/** A network of its own per case, so cases never see each other's allocations. */
function network(impl: Implementation, ipam: Record<string, unknown>, version = impl.version): Network {
  const name = `hl${++networks}-${impl.name}`;
  return { config: { cniVersion: version, name, type: impl.plugin, ipam: { type: impl.plugin, dataDir: dataRoot, ...ipam } }, dir: join(dataRoot, name) };
}

function request(impl: Implementation, net: Network, call: Partial<CniCall> & Pick<CniCall, 'command'>): CniCall {
  const extraEnv: Record<string, string> = impl.name === 'weft' ? { NODE_COMPILE_CACHE: compileCache } : {};
  return { binDir: impl.binDir(), plugin: impl.plugin, config: net.config, containerId: 'c1', ifname: 'eth0', netns: pod.path, nodeNetns: node.path, extraEnv, ...call };
}

function cni(impl: Implementation, net: Network, call: Partial<CniCall> & Pick<CniCall, 'command'>): Promise<CniOutcome> {
  return callCni(request(impl, net, call));
}

/** The allocation files (named by IP) in a network's directory. */
function allocationFiles(net: Network): string[] {
  try {
    return readdirSync(net.dir).filter((name) => parseIp(name) !== undefined).sort();
  } catch {
    return [];
  }
}

/** Runs count tasks, at most limit at a time. */
async function inParallel<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}

const SLASH24 = { ranges: [[{ subnet: '10.77.0.0/24' }]] };
const SLASH29 = { ranges: [[{ subnet: '10.77.1.0/29' }]] };

describe.each(IMPLEMENTATIONS)('host-local ($name)', (impl) => {
  it('gives 100 parallel ADDs from separate processes 100 distinct addresses, one file each', async () => {
    const net = network(impl, SLASH24);
    const outcomes = await inParallel(100, 100, (i) => cni(impl, net, { command: 'ADD', containerId: `par${i}` }));
    expect(outcomes.filter((o) => o.code !== 0).map((o) => o.stdout)).toEqual([]);
    const addresses = outcomes.map((o) => o.json.ips[0].address as string);
    expect(new Set(addresses).size).toBe(100);
    expect(allocationFiles(net)).toHaveLength(100);
    expect(new Set(allocationFiles(net))).toEqual(new Set(addresses.map((a) => a.split('/')[0])));
  });

  it('leaks nothing over 500 ADD/DEL cycles on a /29 (5 addresses, 4 pods at a time)', async () => {
    const net = network(impl, SLASH29);
    const started = Date.now();
    const failures = await inParallel(500, 4, async (i) => {
      const add = await cni(impl, net, { command: 'ADD', containerId: `cyc${i}` });
      const del = await cni(impl, net, { command: 'DEL', containerId: `cyc${i}` });
      return add.code === 0 && del.code === 0 ? undefined : `${i}: ${add.stdout} ${del.stdout}`;
    });
    expect(failures.filter(Boolean)).toEqual([]);
    expect(allocationFiles(net)).toEqual([]);
    console.info(`host-local ${impl.name}: 500 ADD/DEL cycles in ${Date.now() - started} ms`);
    // 1,000 process starts of a 120 MB executable on 2 cores: bounded by count, not by the default timeout.
  }, 480_000);

  it('DEL succeeds twice and without CNI_NETNS, and releases the address', async () => {
    const net = network(impl, SLASH29);
    expect((await cni(impl, net, { command: 'ADD' })).code).toBe(0);
    expect(allocationFiles(net)).toEqual(['10.77.1.2']);
    const first = await cni(impl, net, { command: 'DEL', netns: undefined });
    expect([first.code, first.stdout]).toEqual([0, '']);
    expect(allocationFiles(net)).toEqual([]);
    expect((await cni(impl, net, { command: 'DEL', netns: undefined })).code).toBe(0);
  });

  it('refuses a requested address that is taken and leaves the container holding nothing', async () => {
    const net = network(impl, { ranges: [[{ subnet: '10.77.2.0/24' }], [{ subnet: '10.77.3.0/24' }]] });
    expect((await cni(impl, net, { command: 'ADD', containerId: 'owner' })).code).toBe(0);
    const taken = await cni(impl, net, { command: 'ADD', containerId: 'late', args: 'IgnoreUnknown=1;IP=10.77.3.2' });
    expect(taken.code).not.toBe(0);
    expect(taken.json.code).toBe(impl.name === 'weft' ? 101 : 999);
    // The first range set's address was reserved, then released when the second failed.
    expect(allocationFiles(net)).toEqual(['10.77.2.2', '10.77.3.2']);
  });

  it('answers garbage on stdin with a code 6 error on stdout and a non-zero exit', async () => {
    const net = network(impl, SLASH29);
    const outcome = await cni(impl, net, { command: 'ADD', config: 'this is { not json' });
    expect(outcome.code).not.toBe(0);
    expect(outcome.json.code).toBe(6);
    expect(allocationFiles(net)).toEqual([]);
  });

  it(`refuses an invalid config without allocating (${impl.name === 'weft' ? 'code 7 naming the field' : 'the reference answers 999 without the field'})`, async () => {
    const net = network(impl, { ranges: [[{ subnet: '10.77.4.0/24' }, { subnet: 'nope' }]] });
    const outcome = await cni(impl, net, { command: 'ADD' });
    expect(outcome.code).not.toBe(0);
    if (impl.name === 'weft') expect(outcome.json).toMatchObject({ code: 7, msg: 'invalid config: "ipam.ranges[0][1].subnet" must be a CIDR such as "10.1.0.0/24", got "nope"' });
    else expect(outcome.json.code).toBe(999);
    expect(allocationFiles(net)).toEqual([]);
  });

  it.each(['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'])(
    `renders the ADD result of cniVersion %s in that version's form${impl.name === 'reference' ? ' (the reference refuses 1.1.0)' : ''}`,
    async (version) => {
      const net = network(impl, SLASH29, version);
      const outcome = await cni(impl, net, { command: 'ADD' });
      if (impl.name === 'reference' && version === '1.1.0') {
        expect(outcome.json.code).toBe(1);
        return;
      }
      expect(outcome.code).toBe(0);
      const legacy = version < '1.0.0';
      expect(outcome.json).toEqual({
        cniVersion: version,
        ips: [{ ...(legacy ? { version: '4' } : {}), address: '10.77.1.2/29', gateway: '10.77.1.1' }],
        dns: {},
      });
    },
  );

  it('CHECK passes for an attachment holding its address and fails for one holding none', async () => {
    const net = network(impl, SLASH29, '1.0.0');
    expect((await cni(impl, net, { command: 'ADD' })).code).toBe(0);
    expect((await cni(impl, net, { command: 'CHECK' })).code).toBe(0);
    const unknown = await cni(impl, net, { command: 'CHECK', containerId: 'nobody' });
    expect(unknown.code).not.toBe(0);
    expect(unknown.json.code).toBe(impl.name === 'weft' ? 104 : 999);
  });

  it(`${impl.name === 'weft' ? 'returns the held address' : 'refuses (the reference: "duplicate allocation is not allowed")'} on a repeated ADD of the same attachment`, async () => {
    const net = network(impl, SLASH29);
    const first = await cni(impl, net, { command: 'ADD' });
    const second = await cni(impl, net, { command: 'ADD' });
    expect(first.json.ips[0].address).toBe('10.77.1.2/29');
    if (impl.name === 'weft') expect(second.json.ips[0].address).toBe('10.77.1.2/29');
    else expect(second.json.msg).toContain('duplicate allocation is not allowed');
    expect(allocationFiles(net)).toEqual(['10.77.1.2']);
  });
});

describe('host-local (weft only: GC and STATUS are 1.1.0, which the reference lacks)', () => {
  it('GC releases allocations not in cni.dev/valid-attachments and keeps the valid ones', async () => {
    const net = network(WEFT, SLASH29);
    for (const id of ['keep', 'drop1', 'drop2']) expect((await cni(WEFT, net, { command: 'ADD', containerId: id })).code).toBe(0);
    const gc = await cni(WEFT, { ...net, config: { ...net.config, 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }] } }, { command: 'GC', containerId: undefined, ifname: undefined, netns: undefined });
    expect([gc.code, gc.stdout]).toEqual([0, '']);
    expect(allocationFiles(net)).toEqual(['10.77.1.2']);
    expect((await cni(WEFT, net, { command: 'CHECK', containerId: 'keep' })).code).toBe(0);
  });

  it('leaks nothing when ADDs are SIGKILLed part-way and GC runs after (an empty file once its grace period is over)', async () => {
    const net = network(WEFT, SLASH24);
    // One undisturbed ADD gives the call's length on this machine now; kills then land from a fifth of it
    // (start-up) to past its end (finished: an orphan like a pod whose DEL never came), one call at a time.
    const timed = Date.now();
    expect((await cni(WEFT, net, { command: 'ADD', containerId: 'timed' })).code).toBe(0);
    const length = Date.now() - timed;
    const outcomes: number[] = [];
    for (let i = 0; i < 24; i++) {
      const call = startCni(request(WEFT, net, { command: 'ADD', containerId: `killed${i}` }));
      await new Promise((resolve) => setTimeout(resolve, Math.round((length * (4 + i)) / 20)));
      outcomes.push((await call.stop('SIGKILL')).code);
    }
    const lastKill = Date.now();
    const killed = outcomes.filter((code) => code !== 0).length;
    expect(killed).toBeGreaterThan(0);
    expect(allocationFiles(net).length).toBeGreaterThan(1); // besides "timed", calls that got past their claim left orphans
    const gc = async () => (await cni(WEFT, { ...net, config: { ...net.config, 'cni.dev/valid-attachments': [] } }, { command: 'GC', netns: undefined })).code;
    expect(await gc()).toBe(0);
    // A kill between an ADD's claim (the file, created exclusively) and its owner's write leaves an empty
    // file, which GC keeps for a grace period, as it would for an ADD still writing it; the next GC after
    // that period releases it.
    const empty = allocationFiles(net).filter((ip) => readFileSync(join(net.dir, ip), 'utf8') === '');
    expect(allocationFiles(net)).toEqual(empty);
    if (empty.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, lastKill + WRITE_GRACE_MS + 500 - Date.now())));
      expect(await gc()).toBe(0);
    }
    expect(allocationFiles(net)).toEqual([]);
    console.info(`host-local weft: ${killed} of 24 ADDs killed before finishing`);
  });

  it('STATUS succeeds while an address is free and fails with code 50 naming the full range', async () => {
    const net = network(WEFT, { ranges: [[{ subnet: '10.77.5.0/24', rangeStart: '10.77.5.10', rangeEnd: '10.77.5.11' }]] });
    const status = () => cni(WEFT, net, { command: 'STATUS', containerId: undefined, ifname: undefined, netns: undefined });
    expect((await status()).code).toBe(0);
    for (const id of ['a', 'b']) expect((await cni(WEFT, net, { command: 'ADD', containerId: id })).code).toBe(0);
    const full = await status();
    expect(full.code).not.toBe(0);
    expect(full.json).toMatchObject({ code: 50, msg: 'cannot allocate from range set 0 10.77.5.0/24 (10.77.5.10-10.77.5.11): every address is taken' });
  });

  it('keeps the allocations the reference plugin made in the same directory (a node switching plugins)', async () => {
    const reference = IMPLEMENTATIONS[1]!;
    const net = network(reference, SLASH29, '1.0.0');
    expect((await cni(reference, net, { command: 'ADD', containerId: 'old' })).code).toBe(0);
    const weftNet = { ...net, config: { ...net.config, type: WEFT.plugin } };
    const added = await cni(WEFT, weftNet, { command: 'ADD', containerId: 'new' });
    expect(added.json.ips[0].address).toBe('10.77.1.3/29');
    expect((await cni(WEFT, weftNet, { command: 'CHECK', containerId: 'old' })).code).toBe(0);
    expect((await cni(WEFT, weftNet, { command: 'DEL', containerId: 'old' })).code).toBe(0);
    expect(allocationFiles(net)).toEqual(['10.77.1.3']);
    // and back: the reference sees weft's allocation and continues round robin after it
    expect((await cni(reference, net, { command: 'ADD', containerId: 'back' })).json.ips[0].address).toBe('10.77.1.4/29');
  });
});
