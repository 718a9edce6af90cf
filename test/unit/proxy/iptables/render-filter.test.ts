import { describe, expect, it } from 'vitest';
import { renderForward, renderServiceVerdicts } from '../../../../proxy/iptables/render-filter.ts';
import { formatRule, type Rule } from '../../../../proxy/iptables/rules.ts';
import { planServicePort } from '../../../../proxy/core/service-plan.ts';
import { servicePort } from '../fixtures.ts';

const lines = (rules: Rule[]) => rules.map(formatRule);
const NONE = { clusterEndpoints: [], localEndpoints: [] };

describe('service verdicts (filter WEFT-SERVICES)', () => {
  it('REJECT every destination of a Service without endpoints', () => {
    const plan = planServicePort(servicePort({ ...NONE, externalIPs: ['192.168.9.9'], loadBalancerIPs: ['192.168.5.5'], nodePort: 30001 }));
    expect(lines(renderServiceVerdicts(plan, []))).toEqual([
      '-A WEFT-SERVICES -m comment --comment "WEFT-SERVICES ns1/web:http cluster IP: no endpoints" -d 172.30.0.41/32 -p tcp --dport 80 -j REJECT',
      '-A WEFT-SERVICES -m comment --comment "WEFT-SERVICES ns1/web:http external IP: no endpoints" -d 192.168.9.9/32 -p tcp --dport 80 -j REJECT',
      '-A WEFT-SERVICES -m comment --comment "WEFT-SERVICES ns1/web:http loadbalancer IP: no endpoints" -d 192.168.5.5/32 -p tcp --dport 80 -j REJECT',
      '-A WEFT-SERVICES -m comment --comment "WEFT-SERVICES ns1/web:http node port: no endpoints" -m addrtype --dst-type LOCAL -p tcp --dport 30001 -j REJECT',
    ]);
  });

  it('have nothing to say about a Service with endpoints', () => {
    expect(renderServiceVerdicts(planServicePort(servicePort({ nodePort: 30001 })), [])).toEqual([]);
  });

  it('DROP external traffic for externalTrafficPolicy Local without local endpoints, node ports per --nodeport-addresses CIDR', () => {
    const plan = planServicePort(servicePort({ externalTrafficLocal: true, localEndpoints: [], nodePort: 30001 }));
    expect(lines(renderServiceVerdicts(plan, ['10.0.0.0/24']))).toEqual([
      '-A WEFT-SERVICES -m comment --comment "WEFT-SERVICES ns1/web:http node port: no local endpoints" -d 10.0.0.0/24 -p tcp --dport 30001 -j DROP',
    ]);
  });

  it('DROP ClusterIP traffic for internalTrafficPolicy Local without local endpoints', () => {
    const plan = planServicePort(servicePort({ internalTrafficLocal: true, localEndpoints: [] }));
    expect(lines(renderServiceVerdicts(plan, []))).toEqual([
      '-A WEFT-SERVICES -m comment --comment "WEFT-SERVICES ns1/web:http cluster IP: no local endpoints" -d 172.30.0.41/32 -p tcp --dport 80 -j DROP',
    ]);
  });

  it('DROP load-balancer traffic the FW chain did not accept', () => {
    const plan = planServicePort(servicePort({ loadBalancerIPs: ['192.168.5.5'], loadBalancerSourceRanges: ['10.1.0.0/16'] }));
    expect(lines(renderServiceVerdicts(plan, []))).toEqual([
      '-A WEFT-SERVICES -m comment --comment "WEFT-SERVICES ns1/web:http loadbalancer IP: source not in loadBalancerSourceRanges" -d 192.168.5.5/32 -p tcp --dport 80 -j DROP',
    ]);
  });
});

describe('forwarding (filter WEFT-FORWARD)', () => {
  it('drops invalid packets and accepts marked and established service traffic', () => {
    expect(lines(renderForward(0x10000))).toEqual([
      '-A WEFT-FORWARD -m comment --comment "WEFT-FORWARD drop invalid connection state" -m conntrack --ctstate INVALID -j DROP',
      '-A WEFT-FORWARD -m comment --comment "WEFT-FORWARD accept service traffic" -m mark --mark 0x10000/0x10000 -j ACCEPT',
      '-A WEFT-FORWARD -m comment --comment "WEFT-FORWARD accept established service connections" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    ]);
  });
});
