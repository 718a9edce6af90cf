import { describe, expect, it } from 'vitest';
import { renderExternalChain, renderFirewallChain } from '../../../../proxy/iptables/render-external.ts';
import { formatRule, type Rule } from '../../../../proxy/iptables/rules.ts';
import { planServicePort } from '../../../../proxy/core/service-plan.ts';
import { CONFIG, servicePort } from '../fixtures.ts';

const lines = (rules: Rule[]) => rules.map(formatRule);
const MASQ = { clusterCidr: CONFIG.clusterCidr, mark: CONFIG.masqueradeMark };

describe('the EXT chain', () => {
  it('with Cluster policy masquerades external traffic and sends it to all endpoints', () => {
    const plan = planServicePort(servicePort({ nodePort: 30001 }));
    expect(lines(renderExternalChain(plan, MASQ))).toEqual([
      `-A ${plan.ext} -m comment --comment "WEFT-EXT ns1/web:http masquerade traffic to external destinations" -j MARK --or-mark 0x4000`,
      `-A ${plan.ext} -m comment --comment "WEFT-EXT ns1/web:http external destinations" -j ${plan.svc}`,
    ]);
  });

  it('with Local policy keeps external sources, sends pods and the node (masqueraded) to all endpoints', () => {
    const plan = planServicePort(servicePort({ nodePort: 30001, externalTrafficLocal: true }));
    expect(lines(renderExternalChain(plan, MASQ))).toEqual([
      `-A ${plan.ext} -m comment --comment "WEFT-EXT ns1/web:http pod traffic to external destinations" -s 10.180.0.0/16 -j ${plan.svc}`,
      `-A ${plan.ext} -m comment --comment "WEFT-EXT ns1/web:http masquerade node traffic to external destinations" -m addrtype --src-type LOCAL -j MARK --or-mark 0x4000`,
      `-A ${plan.ext} -m comment --comment "WEFT-EXT ns1/web:http node traffic to external destinations" -m addrtype --src-type LOCAL -j ${plan.svc}`,
      `-A ${plan.ext} -m comment --comment "WEFT-EXT ns1/web:http external destinations" -j ${plan.svl}`,
    ]);
  });

  it('with Local policy and no local endpoint sends external traffic nowhere (the filter table drops it)', () => {
    const plan = planServicePort(servicePort({ nodePort: 30001, externalTrafficLocal: true, localEndpoints: [] }));
    const rules = lines(renderExternalChain(plan, MASQ));
    expect(rules).toHaveLength(3);
    expect(rules.some((r) => r.includes(plan.svl))).toBe(false);
  });

  it('does not exist for a Service without external destinations', () => {
    expect(renderExternalChain(planServicePort(servicePort()), MASQ)).toEqual([]);
  });
});

describe('the FW chain (loadBalancerSourceRanges)', () => {
  it('passes listed sources and the LB IPs themselves on to EXT', () => {
    const plan = planServicePort(servicePort({ loadBalancerIPs: ['192.168.5.5'], loadBalancerSourceRanges: ['10.1.0.0/16', '172.16.4.4/32'] }));
    expect(lines(renderFirewallChain(plan))).toEqual([
      `-A ${plan.fw} -m comment --comment "WEFT-FW ns1/web:http loadbalancer source 10.1.0.0/16" -s 10.1.0.0/16 -j ${plan.ext}`,
      `-A ${plan.fw} -m comment --comment "WEFT-FW ns1/web:http loadbalancer source 172.16.4.4/32" -s 172.16.4.4/32 -j ${plan.ext}`,
      `-A ${plan.fw} -m comment --comment "WEFT-FW ns1/web:http loadbalancer source 192.168.5.5/32" -s 192.168.5.5/32 -j ${plan.ext}`,
    ]);
  });

  it('does not exist without source ranges', () => {
    expect(renderFirewallChain(planServicePort(servicePort({ loadBalancerIPs: ['192.168.5.5'] })))).toEqual([]);
  });
});
