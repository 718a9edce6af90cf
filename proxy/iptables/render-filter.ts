import { formatMark } from '../core/config.ts';
import type { ServicePlan } from '../core/service-plan.ts';
import { FORWARD_CHAIN, SERVICES_CHAIN } from './chain-names.ts';
import { comment, destination, nodeAddressMatches, rule, type Rule } from './rules.ts';

// The filter table sees a packet after nat: one still addressed to a service destination was not
// DNATed. Without endpoints it is REJECTed at once (ICMP port unreachable, so clients fail fast);
// a Local policy without local endpoints, or a source outside loadBalancerSourceRanges, is dropped.

export function renderServiceVerdicts(plan: ServicePlan, nodePortAddresses: readonly string[]): Rule[] {
  const { sp } = plan;
  const rules: Rule[] = [];
  const add = (match: string, what: string, verdict: string) =>
    rules.push(rule('filter', SERVICES_CHAIN, comment(SERVICES_CHAIN, `${sp.key} ${what}`), match, `-j ${verdict}`));
  const external = plan.externalVerdict;
  if (plan.internalVerdict) add(destination(sp.clusterIP, sp.protocol, sp.port), why('cluster IP', plan.internalVerdict), plan.internalVerdict);
  if (external) for (const ip of sp.externalIPs) add(destination(ip, sp.protocol, sp.port), why('external IP', external), external);
  const lbVerdict = external ?? (plan.usesFirewall ? 'DROP' : undefined);
  if (lbVerdict) {
    const what = external ? why('loadbalancer IP', external) : 'loadbalancer IP: source not in loadBalancerSourceRanges';
    for (const ip of sp.loadBalancerIPs) add(destination(ip, sp.protocol, sp.port), what, lbVerdict);
  }
  if (external && sp.nodePort !== undefined) {
    for (const match of nodeAddressMatches(nodePortAddresses)) add(`${match} -p ${sp.protocol} --dport ${sp.nodePort}`, why('node port', external), external);
  }
  return rules;
}

function why(what: string, verdict: string): string {
  return `${what}: ${verdict === 'REJECT' ? 'no endpoints' : 'no local endpoints'}`;
}

/** Forwarded service traffic: invalid packets dropped, marked (service) and established traffic accepted. */
export function renderForward(mark: number): Rule[] {
  const r = (text: string, ...parts: string[]) => rule('filter', FORWARD_CHAIN, comment(FORWARD_CHAIN, text), ...parts);
  return [
    r('drop invalid connection state', '-m conntrack --ctstate INVALID', '-j DROP'),
    r('accept service traffic', `-m mark --mark ${formatMark(mark)}/${formatMark(mark)}`, '-j ACCEPT'),
    r('accept established service connections', '-m conntrack --ctstate RELATED,ESTABLISHED', '-j ACCEPT'),
  ];
}
