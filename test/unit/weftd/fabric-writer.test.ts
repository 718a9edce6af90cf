import { describe, expect, it } from 'vitest';
import { describeLinkRequest } from '../../../lib/netlink/link-requests.ts';
import { LinkRequestError } from '../../../lib/netlink/route-socket.ts';
import { NetlinkError } from '../../../lib/netlink/socket.ts';
import { fabricCommandLine, planFabricChange, planPeers, type FabricCommands, type FabricRequest } from '../../../weftd/fabric/fabric-plan.ts';
import { FabricWriter, type RequestApplier } from '../../../weftd/fabric/fabric-writer.ts';
import { parseIpv4Cidr } from '../../../lib/ip.ts';
import { spec } from './fabric-fixtures.ts';

const ENOENT = 2;
const EPERM = 1;
const ENODEV = 19;

/** A socket that refuses the requests named (by their command line) with the errno given, and records what it was sent. */
function fakeSocket(refusing: Record<string, number> = {}) {
  const sent: string[][] = [];
  const forgotten: string[] = [];
  let closed = 0;
  const socket: RequestApplier = {
    applyEach: (requests: readonly FabricRequest[]) => {
      sent.push(requests.map(fabricCommandLine));
      return requests.flatMap((request, i) => {
        const errno = refusing[fabricCommandLine(request)];
        return errno === undefined ? [] : [new LinkRequestError(i + 1, request, new NetlinkError(describeLinkRequest(request), errno))];
      });
    },
    forget: (link) => void forgotten.push(link),
    close: () => void (closed += 1),
  };
  return { socket, sent, forgotten, closed: () => closed };
}

const lease = (subnet: string, publicIp: string, vtepMac: string) => ({ subnet: parseIpv4Cidr(subnet)!, publicIp, vtepMac, vni: 1 });
/** Node 3 went away, node 2 came. */
const commands: FabricCommands = planFabricChange(
  spec,
  planPeers(spec, [lease('10.244.3.0/24', '172.30.0.3', '0e:00:00:00:00:03')]),
  planPeers(spec, [lease('10.244.2.0/24', '172.30.0.2', '0e:00:00:00:00:02')]),
);
const [fdb, neighbour, route] = commands.add.map(fabricCommandLine);

describe('FabricWriter', () => {
  it('sends removals before additions, on one socket opened once', () => {
    const fake = fakeSocket();
    let opened = 0;
    const writer = new FabricWriter(() => (opened++, fake.socket));
    expect(writer.apply(commands)).toEqual({ removalErrors: [] });
    writer.apply(commands);
    expect(opened).toBe(1);
    expect(fake.sent.slice(0, 2)).toEqual([commands.remove.map(fabricCommandLine), [fdb, neighbour, route]]);
  });

  it('opens the socket at once when asked, so a missing addon fails at start', () => {
    const writer = new FabricWriter(() => {
      throw new Error('cannot load "weft-netlink.node"');
    });
    expect(() => writer.open()).toThrow(/weft-netlink\.node/);
  });

  it('has the device looked up again when it was made anew, and opens a new socket after close', () => {
    const fake = fakeSocket();
    let opened = 0;
    const writer = new FabricWriter(() => (opened++, fake.socket));
    writer.deviceMade('weft.1'); // no socket yet: nothing to forget
    writer.open();
    writer.deviceMade('weft.1');
    expect(fake.forgotten).toEqual(['weft.1']);
    writer.close();
    writer.close();
    expect(fake.closed()).toBe(1);
    writer.apply(commands);
    expect(opened).toBe(2);
  });

  it('takes a removal of an entry already gone as done, and reports other removal failures', () => {
    const [routeRemoval, neighbourRemoval, fdbRemoval] = commands.remove.map(fabricCommandLine);
    const fake = fakeSocket({ [routeRemoval!]: 3 /* ESRCH */, [neighbourRemoval!]: ENOENT, [fdbRemoval!]: EPERM });
    const { removalErrors } = new FabricWriter(() => fake.socket).apply(commands);
    expect(removalErrors).toHaveLength(1);
    expect(removalErrors[0]).toMatch(/^cannot delete FDB entry 0e:00:00:00:00:03 to 172\.30\.0\.3 on "weft\.1": .*\(EPERM\)$/);
  });

  it('tries every addition and throws the first refused, naming the others', () => {
    const fake = fakeSocket({ [neighbour!]: ENODEV, [route!]: ENODEV });
    let error: unknown;
    try {
      new FabricWriter(() => fake.socket).apply(commands);
    } catch (thrown) {
      error = thrown;
    }
    expect(fake.sent[1]).toEqual([fdb, neighbour, route]);
    expect(error).toBeInstanceOf(LinkRequestError);
    expect((error as LinkRequestError).position).toBe(2);
    expect((error as Error).message).toMatch(/^cannot set neighbour 10\.244\.2\.0 to 0e:00:00:00:00:02 on "weft\.1": .*\(ENODEV\) \(and 1 more: cannot set route to 10\.244\.2\.0\/24 via 10\.244\.2\.0 on "weft\.1": .*\(ENODEV\)\)$/);
  });
});
