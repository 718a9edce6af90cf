import type { Backend, ProxyMode } from './core/backend.ts';
import { IptablesBackend } from './iptables/backend.ts';
import { iptablesKernel } from './iptables/kernel.ts';
import { NftablesBackend } from './nftables/backend.ts';
import { nftKernel } from './nftables/kernel.ts';

// The two backends on the node's own kernel: the chosen mode's, and the other one, whose leftovers
// the first full sync removes (as kube-proxy removes the other modes' rules when it starts).

export function backendsFor(mode: ProxyMode): { backend: Backend; others: Backend[] } {
  const iptables = new IptablesBackend(iptablesKernel());
  const nftables = new NftablesBackend(nftKernel());
  return mode === 'nftables' ? { backend: nftables, others: [iptables] } : { backend: iptables, others: [nftables] };
}
