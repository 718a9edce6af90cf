import { parseIpv4Cidr } from '../../../lib/ip.ts';
import type { FabricSpec } from '../../../weftd/fabric/fabric-plan.ts';

/** Node 172.30.0.1 on eth0 with subnet 10.244.1.0/24 over VNI 1, without direct routing. */
export const spec: FabricSpec = {
  device: 'weft.1',
  uplink: { name: 'eth0', address: '172.30.0.1', subnet: parseIpv4Cidr('172.30.0.0/24')!, mtu: 1500 },
  directRouting: false,
  vni: 1,
  own: parseIpv4Cidr('10.244.1.0/24')!,
};
