import { ipv4CidrContains, parseIpv4, parseIpv4Cidr } from '../../lib/ip.ts';
import { parseAttachmentTag } from '../../plugins/bridge/names.ts';
import { formatIp } from '../../lib/ip.ts';
import type { Lease } from '../../plugins/vxlan/lease.ts';
import { IptablesEvaluator } from '../netfilter/iptables-tracer.ts';
import { countRules } from '../netfilter/iptables-ruleset.ts';
import { NftablesEvaluator } from '../netfilter/nftables-tracer.ts';
import { hasProxyChains, proxyTable } from '../netfilter/proxy-layout.ts';
import type { ProxyRulesets } from '../netfilter/proxy-rules.ts';
import type { ChainEvaluator, NodeFacts } from '../netfilter/flow.ts';
import type { LinkState } from '../state/kernel-state.ts';
import type { NodeState } from '../state/node-state.ts';
import { isLocalAddress, sourceAddressFor } from './routing.ts';

// The node as the explanation sees it: rule engines to walk, which addresses are local, the bridges
// and their pods, the VXLAN device and whose subnet lies behind each peer. Built once from NodeState.

export interface PodPort {
  readonly ip: string;
  readonly bridge: string;
  readonly veth?: LinkState;
  readonly containerId?: string;
  readonly ifname?: string;
  /** How the pod was found: its IPAM allocation, or the bridge's neighbour and FDB tables. */
  readonly via: 'ipam' | 'neighbour';
}

export class NodeView {
  readonly state: NodeState;
  readonly evaluators: readonly ChainEvaluator[];
  readonly facts: NodeFacts;

  constructor(state: NodeState) {
    this.state = state;
    const { rulesets } = state;
    const evaluators: ChainEvaluator[] = [new NftablesEvaluator(rulesets.nftables), new IptablesEvaluator(rulesets.iptablesNft, 'iptables-nft')];
    if (countRules(rulesets.iptablesLegacy) > 0) evaluators.push(new IptablesEvaluator(rulesets.iptablesLegacy, 'iptables-legacy'));
    this.evaluators = evaluators;
    this.facts = {
      isLocal: (ip) => isLocalAddress(state.kernel, ip),
      masqueradeSource: (dev, dst) => sourceAddressFor(state.kernel, dev, dst),
    };
  }

  proxyRulesets(): ProxyRulesets {
    const { rulesets } = this.state;
    return { iptables: [{ engine: 'iptables-nft', ruleset: rulesets.iptablesNft }, { engine: 'iptables-legacy', ruleset: rulesets.iptablesLegacy }], nftables: rulesets.nftables };
  }

  get kernel() {
    return this.state.kernel;
  }

  proxyMode(): 'iptables' | 'nftables' | 'none' {
    if (this.state.rulesets.nftables.some((t) => `${t.family} ${t.name}` === proxyTable())) return 'nftables';
    return hasProxyChains(this.state.rulesets.iptablesNft) || hasProxyChains(this.state.rulesets.iptablesLegacy) ? 'iptables' : 'none';
  }

  link(name: string | undefined): LinkState | undefined {
    return name === undefined ? undefined : this.kernel.links.find((l) => l.name === name);
  }

  /** The bridge whose connected subnet holds `ip`, if any. */
  bridgeFor(ip: string): LinkState | undefined {
    const address = parseIpv4(ip);
    if (address === undefined) return undefined;
    return this.kernel.links.find((l) => l.kind === 'bridge' && l.addresses.some((a) => {
      const block = parseIpv4Cidr(`${a.ip}/${a.prefix}`);
      return block !== undefined && ipv4CidrContains(block, address);
    }));
  }

  vxlanDevice(): LinkState | undefined {
    return this.kernel.links.find((l) => l.kind === 'vxlan' && l.name.startsWith('weft.')) ?? this.kernel.links.find((l) => l.kind === 'vxlan');
  }

  /** The pod holding `ip` on `bridge`: from host-local's allocation and weft-bridge's tag on the host veth, else from neighbour + FDB. */
  podPort(ip: string, bridge: LinkState): PodPort | undefined {
    for (const { entries } of this.state.weft.allocations) {
      const entry = entries.find((a) => formatIp(a.ip) === ip);
      if (!entry?.owner) continue;
      const { containerId, ifname } = entry.owner;
      const veth = this.kernel.links.find((l) => {
        const tag = l.alias ? parseAttachmentTag(l.alias) : undefined;
        return l.master === bridge.name && tag?.attachment.containerId === containerId && tag.attachment.ifname === ifname;
      });
      return { ip, bridge: bridge.name, ...(veth ? { veth } : {}), containerId, ifname, via: 'ipam' };
    }
    const neighbour = this.kernel.neighbours.find((n) => n.ip === ip && n.dev === bridge.name && n.mac);
    const fdb = neighbour && this.kernel.fdb.find((f) => f.mac === neighbour.mac?.toLowerCase() && f.master === bridge.name);
    const veth = this.link(fdb?.dev);
    return neighbour && veth ? { ip, bridge: bridge.name, veth, via: 'neighbour' } : undefined;
  }

  /** The lease whose subnet holds `ip`. */
  leaseFor(ip: string): Lease | undefined {
    const address = parseIpv4(ip);
    return address === undefined ? undefined : this.state.weft.leases?.leases.find((l) => ipv4CidrContains(l.subnet, address));
  }

  /** The cluster network (FLANNEL_NETWORK) holds `ip`. */
  inClusterNetwork(ip: string): boolean {
    const network = this.state.weft.subnetFile.env?.network;
    const address = parseIpv4(ip);
    return network !== undefined && address !== undefined && ipv4CidrContains(network, address);
  }
}
