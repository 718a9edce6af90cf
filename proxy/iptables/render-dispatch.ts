import type { ServicePlan } from '../core/service-plan.ts';
import { NODEPORTS_CHAIN, SERVICES_CHAIN } from './chain-names.ts';
import { comment, destination, nodeAddressMatches, rule, type Rule } from './rules.ts';

// Service entry: WEFT-SERVICES (from PREROUTING and OUTPUT) sends each ClusterIP, external IP and
// load-balancer IP to its service chain; WEFT-NODEPORTS does the same for node ports.

export function renderServiceEntry(plan: ServicePlan): Rule[] {
  const { sp } = plan;
  const rules: Rule[] = [];
  const to = (ip: string, what: string, target: string) =>
    rules.push(rule('nat', SERVICES_CHAIN, comment(SERVICES_CHAIN, `${sp.key} ${what}`), destination(ip, sp.protocol, sp.port), `-j ${target}`));
  if (plan.internalTarget) to(sp.clusterIP, 'cluster IP', plan.internalTarget);
  if (!plan.usesExternalChain) return rules;
  for (const ip of sp.externalIPs) to(ip, 'external IP', plan.ext);
  for (const ip of sp.loadBalancerIPs) to(ip, 'loadbalancer IP', plan.usesFirewall ? plan.fw : plan.ext);
  return rules;
}

export function renderNodePort(plan: ServicePlan): Rule[] {
  const { sp } = plan;
  if (!plan.usesExternalChain || sp.nodePort === undefined) return [];
  return [rule('nat', NODEPORTS_CHAIN, comment(NODEPORTS_CHAIN, `${sp.key} node port`), `-p ${sp.protocol} --dport ${sp.nodePort}`, `-j ${plan.ext}`)];
}

/** The last rules of WEFT-SERVICES: anything addressed to the node may be a node port. */
export function renderNodePortsEntry(nodePortAddresses: readonly string[]): Rule[] {
  return nodeAddressMatches(nodePortAddresses).map((match) =>
    rule('nat', SERVICES_CHAIN, comment(SERVICES_CHAIN, 'node ports; must stay the last rules'), match, `-j ${NODEPORTS_CHAIN}`),
  );
}
