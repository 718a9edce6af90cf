import { describe, expect, it } from 'vitest';
import { fabricCommandLine, planPeers } from '../../../weftd/fabric/fabric-plan.ts';
import { spec } from './fabric-fixtures.ts';
import { planStalePrune } from '../../../weftd/fabric/fabric-prune.ts';
import { parseIpv4Cidr } from '../../../lib/ip.ts';

const network = parseIpv4Cidr('10.244.0.0/16')!;
const wanted = planPeers(spec, [{ subnet: parseIpv4Cidr('10.244.2.0/24')!, publicIp: '172.30.0.2', vtepMac: '0e:00:00:00:00:02', vni: 1 }]);

describe('planStalePrune', () => {
  it('removes route, neighbour and FDB entry of a peer whose lease vanished while weftd was down (IPv4 neighbours only)', () => {
    const commands = planStalePrune(spec, network, wanted, {
      routes: [
        { dst: '10.244.2.0/24', dev: 'weft.1', gateway: '10.244.2.0' },
        { dst: '10.244.3.0/24', dev: 'weft.1', gateway: '10.244.3.0' },
      ],
      neighbours: [{ dst: '10.244.2.0', lladdr: '0e:00:00:00:00:02' }, { dst: '10.244.3.0', lladdr: '0e:00:00:00:00:03' }, { dst: 'fe80::1', lladdr: '0e:00:00:00:00:09' }],
      fdb: [{ mac: '0e:00:00:00:00:02', dst: '172.30.0.2' }, { mac: '0e:00:00:00:00:03', dst: '172.30.0.3' }],
    });
    expect(commands.add).toEqual([]);
    expect(commands.remove.map(fabricCommandLine)).toEqual([
      'ip route del 10.244.3.0/24 dev weft.1',
      'ip neigh del 10.244.3.0 dev weft.1',
      'bridge fdb del 0e:00:00:00:00:03 dev weft.1 dst 172.30.0.3 self',
    ]);
  });

  it('never touches the uplink\'s connected route, default route, or routes outside the cluster network', () => {
    const commands = planStalePrune(spec, network, wanted, {
      routes: [
        { dst: '172.30.0.0/24', dev: 'eth0' },
        { dst: 'default', dev: 'eth0', gateway: '172.30.0.254' },
        { dst: '192.168.5.0/24', dev: 'eth0', gateway: '172.30.0.9' },
        { dst: '10.244.7.0/24', dev: 'eth0', gateway: '172.30.0.7' },
      ],
      neighbours: [],
      fdb: [],
    });
    expect(commands.remove.map(fabricCommandLine)).toEqual(['ip route del 10.244.7.0/24 dev eth0']);
  });
});
