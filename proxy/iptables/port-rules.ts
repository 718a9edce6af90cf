import type { ProxyConfig } from '../core/config.ts';
import { mayHairpin } from '../core/endpoints.ts';
import { planServicePort } from '../core/service-plan.ts';
import type { ServicePortState } from '../core/state.ts';
import { renderNodePort, renderServiceEntry } from './render-dispatch.ts';
import { renderEndpointChain } from './render-endpoints.ts';
import { renderExternalChain, renderFirewallChain } from './render-external.ts';
import { renderServiceVerdicts } from './render-filter.ts';
import { formatRule, type Rule } from './rules.ts';

// Everything one Service port puts into iptables: its own nat chains with their rules, and its lines
// in the three dispatch chains every port shares. A full sync writes all ports' rules; a partial sync
// compares a changed port's rules before and after, chain by chain.

export interface PortRules {
  /** Its own nat chains, in declaration order, each with its rule lines. */
  readonly chains: ReadonlyMap<string, readonly string[]>;
  /** Its lines in nat WEFT-SERVICES, nat WEFT-NODEPORTS and filter WEFT-SERVICES. */
  readonly dispatch: DispatchLines;
  /** Endpoint addresses that may reach themselves through it on this node (hairpin). */
  readonly endpointIPs: readonly string[];
}

export interface DispatchLines {
  readonly services: readonly string[];
  readonly nodePorts: readonly string[];
  readonly verdicts: readonly string[];
}

export function portRules(sp: ServicePortState, config: ProxyConfig): PortRules {
  const plan = planServicePort(sp);
  const masq = { clusterCidr: config.clusterCidr, mark: config.masqueradeMark };
  const own: Rule[] = [];
  for (const chain of plan.chains) {
    if (chain !== plan.svc && chain !== plan.svl) continue;
    own.push(...renderEndpointChain(chain, { sp, endpoints: chain === plan.svc ? sp.clusterEndpoints : sp.localEndpoints }, plan.internalTarget === chain ? { masqueradeOffCluster: masq } : {}));
  }
  own.push(...renderExternalChain(plan, masq), ...renderFirewallChain(plan));
  const chains = new Map<string, string[]>(plan.chains.map((c) => [c, []]));
  for (const r of own) chains.get(r.chain)?.push(formatRule(r));
  return {
    chains,
    dispatch: {
      services: renderServiceEntry(plan).map(formatRule),
      nodePorts: renderNodePort(plan).map(formatRule),
      verdicts: renderServiceVerdicts(plan, config.nodePortAddresses).map(formatRule),
    },
    endpointIPs: sp.clusterEndpoints.filter((e) => mayHairpin(e, config.hostname)).map((e) => e.ip),
  };
}
