import { describe, expect, it } from 'vitest';
import { deviceName, fabricCommandLine, noFabricCommands, planFabricChange, planPeers, vtepMacFor, type FabricCommands } from '../../../weftd/fabric/fabric-plan.ts';
import { spec } from './fabric-fixtures.ts';
import { parseIpv4Cidr } from '../../../lib/ip.ts';
import type { Lease } from '../../../weftd/subnet/lease.ts';

const lease = (subnet: string, publicIp: string, vtepMac: string, vni = 1): Lease => ({ subnet: parseIpv4Cidr(subnet)!, publicIp, vtepMac, vni });
const own = lease('10.244.1.0/24', '172.30.0.1', '0e:00:00:00:00:01');
const two = lease('10.244.2.0/24', '172.30.0.2', '0e:00:00:00:00:02');
const three = lease('10.244.3.0/24', '192.168.9.3', '0e:00:00:00:00:03');

/** The requests as the ip and bridge commands that make the same changes. */
const lines = (commands: FabricCommands) => ({ remove: commands.remove.map(fabricCommandLine), add: commands.add.map(fabricCommandLine) });

describe('planPeers and planFabricChange', () => {
  it('programs FDB, a permanent neighbour and an onlink route per remote lease, in that order, never for its own', () => {
    expect(lines(planFabricChange(spec, new Map(), planPeers(spec, [own, two])))).toEqual({
      remove: [],
      add: [
        'bridge fdb replace 0e:00:00:00:00:02 dev weft.1 dst 172.30.0.2 self permanent',
        'ip neigh replace 10.244.2.0 lladdr 0e:00:00:00:00:02 dev weft.1 nud permanent',
        'ip route replace 10.244.2.0/24 via 10.244.2.0 dev weft.1 onlink',
      ],
    });
  });

  it('produces nothing when the lease set did not change', () => {
    const peers = planPeers(spec, [own, two, three]);
    expect(planFabricChange(spec, peers, planPeers(spec, [three, two, own]))).toEqual(noFabricCommands());
  });

  it('removes route, neighbour and FDB entry of a lease that went away', () => {
    expect(lines(planFabricChange(spec, planPeers(spec, [two, three]), planPeers(spec, [two])))).toEqual({
      remove: ['ip route del 10.244.3.0/24', 'ip neigh del 10.244.3.0 dev weft.1', 'bridge fdb del 0e:00:00:00:00:03 dev weft.1 dst 192.168.9.3 self'],
      add: [],
    });
  });

  it('replaces the entries of a node that came back with another public IP, keeping its route in place', () => {
    const moved = lease('10.244.2.0/24', '172.30.0.22', '0e:00:00:00:00:22');
    expect(lines(planFabricChange(spec, planPeers(spec, [two]), planPeers(spec, [moved])))).toEqual({
      remove: ['ip neigh del 10.244.2.0 dev weft.1', 'bridge fdb del 0e:00:00:00:00:02 dev weft.1 dst 172.30.0.2 self'],
      add: [
        'bridge fdb replace 0e:00:00:00:00:22 dev weft.1 dst 172.30.0.22 self permanent',
        'ip neigh replace 10.244.2.0 lladdr 0e:00:00:00:00:22 dev weft.1 nud permanent',
        'ip route replace 10.244.2.0/24 via 10.244.2.0 dev weft.1 onlink',
      ],
    });
  });

  it('gives a peer moving from a direct route onto the overlay its FDB entry and neighbour before the route', () => {
    const direct = { ...spec, directRouting: true };
    const before = planPeers(direct, [two]);
    expect([...before.values()][0]?.direct).toBe(true);
    expect(lines(planFabricChange(direct, before, planPeers(spec, [two]))).add).toEqual([
      'bridge fdb replace 0e:00:00:00:00:02 dev weft.1 dst 172.30.0.2 self permanent',
      'ip neigh replace 10.244.2.0 lladdr 0e:00:00:00:00:02 dev weft.1 nud permanent',
      'ip route replace 10.244.2.0/24 via 10.244.2.0 dev weft.1 onlink',
    ]);
  });

  it('ignores leases of another VNI', () => {
    expect(planPeers(spec, [lease('10.244.5.0/24', '172.30.0.5', '0e:00:00:00:00:05', 7)]).size).toBe(0);
  });

  it('with DirectRouting uses a plain route via the public IP for peers on the uplink subnet only', () => {
    const direct = { ...spec, directRouting: true };
    expect(lines(planFabricChange(direct, new Map(), planPeers(direct, [two, three]))).add).toEqual([
      'ip route replace 10.244.2.0/24 via 172.30.0.2 dev eth0',
      'bridge fdb replace 0e:00:00:00:00:03 dev weft.1 dst 192.168.9.3 self permanent',
      'ip neigh replace 10.244.3.0 lladdr 0e:00:00:00:00:03 dev weft.1 nud permanent',
      'ip route replace 10.244.3.0/24 via 10.244.3.0 dev weft.1 onlink',
    ]);
  });

  it('removes only the route of a direct peer that went away', () => {
    const direct = { ...spec, directRouting: true };
    expect(lines(planFabricChange(direct, planPeers(direct, [two]), new Map()))).toEqual({ remove: ['ip route del 10.244.2.0/24'], add: [] });
  });
});

describe('device naming and VTEP MAC', () => {
  it('names the device weft.<VNI> within the 15-character limit', () => {
    expect(deviceName(1)).toBe('weft.1');
    expect(deviceName(16_777_215).length).toBeLessThanOrEqual(15);
  });

  it('derives a stable, locally administered unicast MAC from the public IP and VNI', () => {
    const mac = vtepMacFor('172.30.0.1', 1);
    expect(mac).toBe(vtepMacFor('172.30.0.1', 1));
    expect(mac).not.toBe(vtepMacFor('172.30.0.2', 1));
    expect(mac).not.toBe(vtepMacFor('172.30.0.1', 2));
    const first = parseInt(mac.slice(0, 2), 16);
    expect(first & 0x02).toBe(0x02);
    expect(first & 0x01).toBe(0);
  });
});
