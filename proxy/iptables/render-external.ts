import type { ServicePlan } from '../core/service-plan.ts';
import { comment, host, rule, setMark, type Rule } from './rules.ts';

// External traffic (NodePort, externalIPs, load-balancer IPs) enters the EXT chain. Cluster policy
// masquerades it (the endpoint may be on another node). Local policy keeps the client's address and
// uses only this node's endpoints, except for pods and the node itself, which reach every endpoint.

export function renderExternalChain(plan: ServicePlan, options: { clusterCidr: string; mark: number }): Rule[] {
  if (!plan.usesExternalChain) return [];
  const { sp, ext } = plan;
  const r = (text: string, ...parts: string[]) => rule('nat', ext, comment(ext, `${sp.key} ${text}`), ...parts);
  const rules = plan.sp.externalTrafficLocal
    ? [
        r('pod traffic to external destinations', `-s ${options.clusterCidr}`, `-j ${plan.svc}`),
        r('masquerade node traffic to external destinations', '-m addrtype --src-type LOCAL', setMark(options.mark)),
        r('node traffic to external destinations', '-m addrtype --src-type LOCAL', `-j ${plan.svc}`),
      ]
    : [r('masquerade traffic to external destinations', setMark(options.mark))];
  if (plan.externalTarget) rules.push(r('external destinations', `-j ${plan.externalTarget}`));
  return rules;
}

/** loadBalancerSourceRanges: listed sources (and the LB IPs themselves, for hairpin) go on to EXT; the filter table drops the rest. */
export function renderFirewallChain(plan: ServicePlan): Rule[] {
  if (!plan.usesFirewall) return [];
  const { sp, fw, ext } = plan;
  return [...sp.loadBalancerSourceRanges, ...sp.loadBalancerIPs.map(host)].map((source) =>
    rule('nat', fw, comment(fw, `${sp.key} loadbalancer source ${source}`), `-s ${source}`, `-j ${ext}`),
  );
}
