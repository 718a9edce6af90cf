import type { Backend, ProxyMode } from './core/backend.ts';
import { IptablesBackend } from './iptables/backend.ts';
import { iptablesKernel } from './iptables/kernel.ts';
import { NftablesBackend } from './nftables/backend.ts';
import { nftKernel } from './nftables/kernel.ts';

// The two backends on the node's own kernel: the chosen mode's, and the other one, whose leftovers
// the first full sync removes once its own rules are in (kube-proxy removes them when it starts, before
// its first sync, which leaves Services without rules for as long as that sync takes).

export function backendsFor(mode: ProxyMode): { backend: Backend; others: Backend[] } {
  const iptables = new IptablesBackend(iptablesKernel());
  const nftables = new NftablesBackend(nftKernel());
  return mode === 'nftables' ? { backend: nftables, others: [iptables] } : { backend: iptables, others: [nftables] };
}
