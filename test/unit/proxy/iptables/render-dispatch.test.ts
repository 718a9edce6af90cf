import { describe, expect, it } from 'vitest';
import { renderNodePort, renderNodePortsEntry, renderServiceEntry } from '../../../../proxy/iptables/render-dispatch.ts';
import { formatRule, type Rule } from '../../../../proxy/iptables/rules.ts';
import { planServicePort } from '../../../../proxy/core/service-plan.ts';
import { servicePort } from '../fixtures.ts';

const lines = (rules: Rule[]) => rules.map(formatRule);

describe('service entry (WEFT-SERVICES)', () => {
  it('jumps a ClusterIP to its SVC chain', () => {
    const plan = planServicePort(servicePort());
    expect(lines(renderServiceEntry(plan))).toEqual([
      `-A WEFT-SERVICES -m comment --comment "WEFT-SERVICES ns1/web:http cluster IP" -d 172.30.0.41/32 -p tcp --dport 80 -j ${plan.svc}`,
    ]);
  });

  it('jumps externalIPs to EXT and load-balancer IPs to FW when source ranges are set', () => {
    const plan = planServicePort(servicePort({ externalIPs: ['192.168.9.9'], loadBalancerIPs: ['192.168.5.5'], loadBalancerSourceRanges: ['10.1.0.0/16'] }));
    expect(lines(renderServiceEntry(plan)).slice(1)).toEqual([
      `-A WEFT-SERVICES -m comment --comment "WEFT-SERVICES ns1/web:http external IP" -d 192.168.9.9/32 -p tcp --dport 80 -j ${plan.ext}`,
      `-A WEFT-SERVICES -m comment --comment "WEFT-SERVICES ns1/web:http loadbalancer IP" -d 192.168.5.5/32 -p tcp --dport 80 -j ${plan.fw}`,
    ]);
  });

  it('jumps a load-balancer IP straight to EXT without source ranges', () => {
    const plan = planServicePort(servicePort({ loadBalancerIPs: ['192.168.5.5'] }));
    expect(lines(renderServiceEntry(plan))[1]).toContain(`-j ${plan.ext}`);
  });

  it('uses the SVL chain for internalTrafficPolicy Local', () => {
    const plan = planServicePort(servicePort({ internalTrafficLocal: true }));
    expect(lines(renderServiceEntry(plan))[0]).toMatch(new RegExp(`-j ${plan.svl}$`));
  });

  it('leaves out a Service without endpoints (the filter table rejects it)', () => {
    expect(renderServiceEntry(planServicePort(servicePort({ clusterEndpoints: [], localEndpoints: [], nodePort: 30001 })))).toEqual([]);
  });
});

describe('node ports', () => {
  it('jump the node port to the EXT chain', () => {
    const plan = planServicePort(servicePort({ nodePort: 30001, protocol: 'udp' }));
    expect(lines(renderNodePort(plan))).toEqual([
      `-A WEFT-NODEPORTS -m comment --comment "WEFT-NODEPORTS ns1/web:http node port" -p udp --dport 30001 -j ${plan.ext}`,
    ]);
  });

  it('are entered for every local address by default', () => {
    expect(lines(renderNodePortsEntry([]))).toEqual([
      '-A WEFT-SERVICES -m comment --comment "WEFT-SERVICES node ports; must stay the last rules" -m addrtype --dst-type LOCAL -j WEFT-NODEPORTS',
    ]);
  });

  it('are entered only for the --nodeport-addresses CIDRs when given', () => {
    expect(lines(renderNodePortsEntry(['10.0.0.0/24', '192.168.1.7/32']))).toEqual([
      '-A WEFT-SERVICES -m comment --comment "WEFT-SERVICES node ports; must stay the last rules" -d 10.0.0.0/24 -j WEFT-NODEPORTS',
      '-A WEFT-SERVICES -m comment --comment "WEFT-SERVICES node ports; must stay the last rules" -d 192.168.1.7/32 -j WEFT-NODEPORTS',
    ]);
  });
});
