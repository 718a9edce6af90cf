import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchSession } from '../../lib/batch-session.ts';
import { runChecked } from '../../lib/exec.ts';
import { IpBatchError } from '../../lib/ip-batch.ts';
import { NetnsScope, type Netns } from '../support/netns.ts';

// lib/batch-session.ts against the real ip and bridge: one program for many requests, each request's
// failures mapped back to its own lines, and a program that dies replaced by the next request.

describe('BatchSession', () => {
  const scope = new NetnsScope();
  let ns: Netns;
  const sessions: BatchSession[] = [];
  const session = (program: 'ip' | 'bridge', timeoutMs?: number): BatchSession => {
    const made = new BatchSession(program, { netns: ns.path, ...(timeoutMs ? { timeoutMs } : {}) });
    sessions.push(made);
    return made;
  };
  /** Processes named `program` in the namespace. */
  const pidsOf = async (program: string): Promise<string[]> => {
    const pids = (await runChecked('ip', ['netns', 'pids', ns.name])).stdout.split('\n').filter(Boolean);
    return pids.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === program;
      } catch {
        return false; // exited meanwhile
      }
    });
  };

  beforeAll(async () => {
    ns = await scope.create('batch');
    await ns.exec('ip', ['-batch', '-'], 'link add name br0 type bridge\naddr add 10.99.0.1/24 dev br0\nlink set dev br0 up\nlink add name vx0 type vxlan id 5 local 10.99.0.1 dev br0 dstport 8472 nolearning\nlink set dev vx0 up\n');
  });

  afterAll(async () => {
    for (const made of sessions) await made.close();
    await scope.cleanup();
  });

  it('applies request after request in one program, each resolved with its own failed lines', async () => {
    const ip = session('ip');
    const [first, second] = await Promise.all([
      ip.run(['route replace 10.98.1.0/24 via 10.99.0.9 dev br0', 'route add 10.98.1.0/24 via 10.99.0.9 dev br0']),
      ip.run(['route replace 10.98.2.0/24 dev nosuch0', 'route replace 10.98.3.0/24 via 10.99.0.9 dev br0']),
    ]);
    expect(first).toEqual([{ index: 1, line: 'route add 10.98.1.0/24 via 10.99.0.9 dev br0', message: 'RTNETLINK answers: File exists' }]);
    expect(second).toHaveLength(1);
    expect(second[0]).toMatchObject({ index: 0, line: 'route replace 10.98.2.0/24 dev nosuch0' });
    expect(second[0]!.message).toContain('nosuch0');
    const routes = await ns.exec('ip', ['route', 'show']);
    expect(routes).toContain('10.98.1.0/24 via 10.99.0.9 dev br0');
    expect(routes).toContain('10.98.3.0/24 via 10.99.0.9 dev br0');
    expect(await ip.run(['route del 10.98.3.0/24'])).toEqual([]);
  });

  it('starts its program ahead of the first request when told, and that request is answered by it', async () => {
    const before = await pidsOf('bridge');
    const bridge = session('bridge');
    bridge.start();
    expect(bridge.used).toBe(false);
    // The program execs through nsenter: wait until it is bridge.
    let started: string[] = [];
    for (let tries = 0; tries < 100 && started.length === 0; tries++) {
      started = (await pidsOf('bridge')).filter((pid) => !before.includes(pid));
      if (started.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(started).toHaveLength(1);
    expect(await bridge.run(['fdb replace 0e:00:00:00:00:09 dev vx0 dst 10.99.0.9 self permanent'])).toEqual([]);
    expect(bridge.used).toBe(true);
    expect((await pidsOf('bridge')).filter((pid) => !before.includes(pid))).toEqual(started);
    await bridge.close();
  });

  it('programs FDB entries through bridge, an absent one\'s removal reported as a failure of that line', async () => {
    const bridge = session('bridge');
    const failures = await bridge.run(['fdb replace 0e:00:00:00:00:07 dev vx0 dst 10.99.0.7 self permanent', 'fdb del 0e:00:00:00:00:08 dev vx0 dst 10.99.0.8 self']);
    expect(failures.map((f) => f.index)).toEqual([1]);
    expect(await ns.exec('bridge', ['fdb', 'show', 'dev', 'vx0'])).toContain('0e:00:00:00:00:07 dst 10.99.0.7 self permanent');
  });

  it('rejects a request whose program exits part-way, and the next request starts a new program', async () => {
    const ip = session('ip');
    await ip.run(['route replace 10.98.4.0/24 via 10.99.0.9 dev br0']);
    const before = await pidsOf('ip');
    // iproute2 ends the whole program when a neighbour change fails, -force or not.
    const error = await ip.run(['neigh del 10.99.0.77 dev br0', 'route replace 10.98.5.0/24 via 10.99.0.9 dev br0']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpBatchError);
    expect((error as Error).message).toMatch(/ip exited \(code 2\)/);
    expect(await ip.run(['route replace 10.98.6.0/24 via 10.99.0.9 dev br0'])).toEqual([]);
    const after = await pidsOf('ip');
    expect(after).toHaveLength(before.length);
    expect(after).not.toEqual(before);
    expect(await ns.exec('ip', ['route', 'show', '10.98.6.0/24'])).toContain('via 10.99.0.9');
  });

  it('leaves no program behind once closed', async () => {
    const ip = session('ip');
    await ip.run(['route replace 10.98.7.0/24 via 10.99.0.9 dev br0']);
    await ip.close();
    for (const made of sessions) await made.close();
    expect(await pidsOf('ip')).toEqual([]);
    expect(await pidsOf('bridge')).toEqual([]);
  });
});
