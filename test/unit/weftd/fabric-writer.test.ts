import { describe, expect, it } from 'vitest';
import type { LineFailure } from '../../../lib/batch-session.ts';
import { IpBatchError } from '../../../lib/ip-batch.ts';
import { FabricWriter, type LineRunner } from '../../../weftd/fabric/fabric-writer.ts';

/** A batch program that fails the lines given, with the message given, and records what it ran. */
function fakeRunner(failing: Record<string, string> = {}): LineRunner & { ran: string[][]; closed: number } {
  const ran: string[][] = [];
  return {
    ran,
    closed: 0,
    started: false,
    start() {
      this.started = true;
    },
    get used() {
      return ran.length > 0;
    },
    run: async (lines) => {
      // As BatchSession: no lines, nothing written.
      if (lines.length > 0) ran.push([...lines]);
      return lines.flatMap((line, index): LineFailure[] => (failing[line] ? [{ index, line, message: failing[line]! }] : []));
    },
    async close() {
      this.closed += 1;
    },
  } as LineRunner & { ran: string[][]; closed: number; started: boolean };
}

const commands = {
  ipRemove: ['route del 10.244.3.0/24', 'neigh flush to 10.244.3.0 dev weft.1 nud all'],
  bridgeRemove: ['fdb del 0e:00:00:00:00:03 dev weft.1 dst 172.30.0.3 self'],
  bridgeAdd: ['fdb replace 0e:00:00:00:00:02 dev weft.1 dst 172.30.0.2 self permanent'],
  ipAdd: ['neigh replace 10.244.2.0 lladdr 0e:00:00:00:00:02 dev weft.1 nud permanent', 'route replace 10.244.2.0/24 via 10.244.2.0 dev weft.1 onlink'],
  fdbFirst: true,
};

/** A batch program that answers only when told to, and says when each request started. */
function heldRunner(name: string, events: string[]): LineRunner & { answer: () => void } {
  let answer = () => {};
  return {
    answer: () => answer(),
    start: () => {},
    used: false,
    run: () => {
      events.push(`${name} started`);
      return new Promise<LineFailure[]>((resolve) => {
        answer = () => {
          events.push(`${name} answered`);
          resolve([]);
        };
      });
    },
    close: async () => {},
  };
}

describe('FabricWriter', () => {
  it('sends removals before additions, the FDB program first', async () => {
    const bridge = fakeRunner();
    const ip = fakeRunner();
    expect(await new FabricWriter({ bridge, ip }).apply(commands)).toEqual({ removalErrors: [] });
    expect(bridge.ran).toEqual([[...commands.bridgeRemove, ...commands.bridgeAdd]]);
    expect(ip.ran).toEqual([[...commands.ipRemove, ...commands.ipAdd]]);
  });

  it('starts the ip program only once the FDB program answered when a peer changed', async () => {
    const events: string[] = [];
    const bridge = heldRunner('bridge', events);
    const ip = heldRunner('ip', events);
    const applied = new FabricWriter({ bridge, ip }).apply(commands);
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['bridge started']);
    bridge.answer();
    await new Promise((r) => setImmediate(r));
    ip.answer();
    await applied;
    expect(events).toEqual(['bridge started', 'bridge answered', 'ip started', 'ip answered']);
  });

  it('runs both programs at once when peers only came or went', async () => {
    const events: string[] = [];
    const bridge = heldRunner('bridge', events);
    const ip = heldRunner('ip', events);
    const applied = new FabricWriter({ bridge, ip }).apply({ ...commands, fdbFirst: false });
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['bridge started', 'ip started']);
    ip.answer();
    bridge.answer();
    await applied;
  });

  it('ends only a program that ran lines when the device was made anew', async () => {
    const bridge = fakeRunner();
    const ip = fakeRunner();
    const writer = new FabricWriter({ bridge, ip });
    await writer.apply({ ...commands, bridgeRemove: [], bridgeAdd: [] });
    await writer.deviceMade();
    expect([bridge.closed, ip.closed]).toEqual([0, 1]);
  });

  it('takes a removal of an entry already gone as done, and reports other removal failures', async () => {
    const ip = fakeRunner({ 'route del 10.244.3.0/24': 'RTNETLINK answers: No such process' });
    const bridge = fakeRunner({ [commands.bridgeRemove[0]!]: 'RTNETLINK answers: Operation not permitted' });
    const { removalErrors } = await new FabricWriter({ bridge, ip }).apply(commands);
    expect(removalErrors).toEqual([`bridge ${commands.bridgeRemove[0]}: RTNETLINK answers: Operation not permitted`]);
  });

  it('throws the first failed addition naming its line, and the others in its detail', async () => {
    const ip = fakeRunner({ [commands.ipAdd[0]!]: 'Cannot find device "weft.1"', [commands.ipAdd[1]!]: 'Cannot find device "weft.1"' });
    const error = await new FabricWriter({ bridge: fakeRunner(), ip }).apply(commands).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpBatchError);
    expect((error as IpBatchError).line).toBe(1);
    expect((error as IpBatchError).message).toBe(`cannot apply "ip ${commands.ipAdd[0]}": Cannot find device "weft.1" (and 1 more: ${commands.ipAdd[1]})`);
  });
});
