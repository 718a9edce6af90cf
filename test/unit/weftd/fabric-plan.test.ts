import { describe, expect, it } from 'vitest';
import { deviceName, noFabricCommands, planFabricChange, planPeers, vtepMacFor } from '../../../weftd/fabric/fabric-plan.ts';
import { spec } from './fabric-fixtures.ts';
import { parseIpv4Cidr } from '../../../lib/ip.ts';
import type { Lease } from '../../../weftd/subnet/lease.ts';

const lease = (subnet: string, publicIp: string, vtepMac: string, vni = 1): Lease => ({ subnet: parseIpv4Cidr(subnet)!, publicIp, vtepMac, vni });
const own = lease('10.244.1.0/24', '172.30.0.1', '0e:00:00:00:00:01');
const two = lease('10.244.2.0/24', '172.30.0.2', '0e:00:00:00:00:02');
const three = lease('10.244.3.0/24', '192.168.9.3', '0e:00:00:00:00:03');

describe('planPeers and planFabricChange', () => {
  it('programs FDB, a permanent neighbour and an onlink route per remote lease, never for its own', () => {
    const commands = planFabricChange(spec, new Map(), planPeers(spec, [own, two]));
    expect(commands).toEqual({
      ipRemove: [],
      bridgeRemove: [],
      bridgeAdd: ['fdb replace 0e:00:00:00:00:02 dev weft.1 dst 172.30.0.2 self permanent'],
      ipAdd: ['neigh replace 10.244.2.0 lladdr 0e:00:00:00:00:02 dev weft.1 nud permanent', 'route replace 10.244.2.0/24 via 10.244.2.0 dev weft.1 onlink'],
      fdbFirst: false,
    });
  });

  it('produces nothing when the lease set did not change', () => {
    const peers = planPeers(spec, [own, two, three]);
    expect(planFabricChange(spec, peers, planPeers(spec, [three, two, own]))).toEqual(noFabricCommands());
  });

  it('removes route, neighbour and FDB entry of a lease that went away', () => {
    const commands = planFabricChange(spec, planPeers(spec, [two, three]), planPeers(spec, [two]));
    expect(commands.ipRemove).toEqual(['route del 10.244.3.0/24', 'neigh flush to 10.244.3.0 dev weft.1 nud all']);
    expect(commands.bridgeRemove).toEqual(['fdb del 0e:00:00:00:00:03 dev weft.1 dst 192.168.9.3 self']);
    expect(commands.bridgeAdd).toEqual([]);
    expect(commands.ipAdd).toEqual([]);
  });

  it('replaces the entries of a node that came back with another public IP, keeping its route in place', () => {
    const moved = lease('10.244.2.0/24', '172.30.0.22', '0e:00:00:00:00:22');
    const commands = planFabricChange(spec, planPeers(spec, [two]), planPeers(spec, [moved]));
    expect(commands.ipRemove).toEqual(['neigh flush to 10.244.2.0 dev weft.1 nud all']);
    expect(commands.bridgeRemove).toEqual(['fdb del 0e:00:00:00:00:02 dev weft.1 dst 172.30.0.2 self']);
    expect(commands.bridgeAdd).toEqual(['fdb replace 0e:00:00:00:00:22 dev weft.1 dst 172.30.0.22 self permanent']);
    expect(commands.ipAdd).toContain('route replace 10.244.2.0/24 via 10.244.2.0 dev weft.1 onlink');
    expect(commands.fdbFirst).toBe(true);
  });

  it('lets the FDB and ip programs run at once when peers only come and go', () => {
    expect(planFabricChange(spec, planPeers(spec, [two]), planPeers(spec, [three])).fdbFirst).toBe(false);
  });

  it('orders the FDB first for a peer moving from a direct route onto the overlay', () => {
    const direct = { ...spec, directRouting: true };
    const before = planPeers(direct, [two]);
    expect([...before.values()][0]?.direct).toBe(true);
    expect(planFabricChange(direct, before, planPeers(spec, [two])).fdbFirst).toBe(true);
  });

  it('ignores leases of another VNI', () => {
    expect(planPeers(spec, [lease('10.244.5.0/24', '172.30.0.5', '0e:00:00:00:00:05', 7)]).size).toBe(0);
  });

  it('with DirectRouting uses a plain route via the public IP for peers on the uplink subnet only', () => {
    const direct = { ...spec, directRouting: true };
    const commands = planFabricChange(direct, new Map(), planPeers(direct, [two, three]));
    expect(commands.ipAdd).toEqual([
      'route replace 10.244.2.0/24 via 172.30.0.2 dev eth0',
      'neigh replace 10.244.3.0 lladdr 0e:00:00:00:00:03 dev weft.1 nud permanent',
      'route replace 10.244.3.0/24 via 10.244.3.0 dev weft.1 onlink',
    ]);
    expect(commands.bridgeAdd).toEqual(['fdb replace 0e:00:00:00:00:03 dev weft.1 dst 192.168.9.3 self permanent']);
  });

  it('removes only the route of a direct peer that went away', () => {
    const direct = { ...spec, directRouting: true };
    const commands = planFabricChange(direct, planPeers(direct, [two]), new Map());
    expect(commands).toEqual({ ...noFabricCommands(), ipRemove: ['route del 10.244.2.0/24'] });
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
