import type { Endpoint } from '../core/endpoints.ts';
import { affinityListName } from '../core/service-names.ts';
import type { ServicePortState } from '../core/state.ts';
import { comment, destination, rule, setMark, type Rule } from './rules.ts';

// Endpoint selection inside one chain per service (no chain per endpoint: with iptables-nft the chain
// count dominates load time, docs/PERFORMANCE.md). The DNAT rules sit in the SVC/SVL chain: endpoint
// i of n matches with probability 1/(n-i), the last one always, giving an even spread. Per-endpoint
// rules carry no comment (kube-proxy drops them in large clusters too): a comment is a match the
// kernel stores and runs per rule; the chain's Service is named where it is dispatched to.

/** A service port and the endpoints one of its chains chooses from. */
export interface EndpointSet {
  readonly sp: ServicePortState;
  readonly endpoints: readonly Endpoint[];
}

export interface EndpointChainOptions {
  /** Mark ClusterIP traffic from outside this CIDR for masquerade (set on the chain ClusterIPs use). */
  readonly masqueradeOffCluster?: { readonly clusterCidr: string; readonly mark: number };
}

function endpointAddress(e: Endpoint): string {
  return `${e.ip}:${e.port}`;
}

/** Probability with ten decimals, as kube-proxy prints it, so the kernel's fixed-point rounding is stable. */
export function probability(index: number, count: number): string {
  return (1 / (count - index)).toFixed(10);
}

/** Session affinity: a client seen within the timeout goes back to its endpoint and refreshes its entry. */
export function renderAffinity(chain: string, { sp, endpoints }: EndpointSet): Rule[] {
  if (sp.affinitySeconds === undefined) return [];
  return endpoints.map((e) => {
    const list = affinityListName(sp, endpointAddress(e));
    return rule(
      'nat',
      chain,
      `-p ${sp.protocol}`,
      `-m recent --name ${list} --rcheck --seconds ${sp.affinitySeconds} --reap --rsource`,
      `-m recent --name ${list} --set --rsource`,
      `-j DNAT --to-destination ${endpointAddress(e)}`,
    );
  });
}

export function renderEndpointSelection(chain: string, { sp, endpoints }: EndpointSet): Rule[] {
  return endpoints.map((e, i) =>
    rule(
      'nat',
      chain,
      `-p ${sp.protocol}`,
      i < endpoints.length - 1 ? `-m statistic --mode random --probability ${probability(i, endpoints.length)}` : '',
      sp.affinitySeconds !== undefined ? `-m recent --name ${affinityListName(sp, endpointAddress(e))} --set --rsource` : '',
      `-j DNAT --to-destination ${endpointAddress(e)}`,
    ),
  );
}

/** A whole SVC or SVL chain: off-cluster masquerade (ClusterIP chains only), affinity, then the spread. */
export function renderEndpointChain(chain: string, set: EndpointSet, options: EndpointChainOptions = {}): Rule[] {
  const { sp } = set;
  const masq = options.masqueradeOffCluster;
  const head = masq
    ? [rule('nat', chain, comment(chain, `${sp.key} cluster IP from outside the cluster`), `! -s ${masq.clusterCidr}`, destination(sp.clusterIP, sp.protocol, sp.port), setMark(masq.mark))]
    : [];
  return [...head, ...renderAffinity(chain, set), ...renderEndpointSelection(chain, set)];
}
