import { ipv4CidrSize, type Ipv4Cidr } from '../../lib/ip.ts';
import type { NetworkConfig } from './network-config.ts';

// Which subnet a new node asks for: a random free one between SubnetMin and SubnetMax, so nodes
// starting together rarely race for the same key (the etcd transaction settles any race that remains).

/** Returns a free subnet, or undefined when every subnet is taken. `random` returns [0, 1). */
export function chooseFreeSubnet(config: NetworkConfig, taken: readonly Ipv4Cidr[], random: () => number = Math.random): Ipv4Cidr | undefined {
  const size = ipv4CidrSize(config.subnetLen);
  const used = new Set(taken.filter((c) => c.prefix === config.subnetLen).map((c) => c.network));
  const count = (config.subnetMax - config.subnetMin) / size + 1;
  const start = Math.floor(random() * count);
  // Bounded: at most one pass over the range (65k steps for a /8 split into /24s).
  for (let i = 0; i < count; i++) {
    const network = config.subnetMin + ((start + i) % count) * size;
    if (!used.has(network)) return { network, prefix: config.subnetLen };
  }
  return undefined;
}
