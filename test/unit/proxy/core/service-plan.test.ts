import { describe, expect, it } from 'vitest';
import { planServicePort } from '../../../../proxy/core/service-plan.ts';
import { servicePort } from '../fixtures.ts';

describe('the service plan', () => {
  it('gives a plain ClusterIP Service one chain', () => {
    const plan = planServicePort(servicePort());
    expect(plan.chains).toEqual([plan.svc]);
    expect(plan.internalTarget).toBe(plan.svc);
  });

  it('gives a LoadBalancer with source ranges SVC, EXT and FW chains', () => {
    const plan = planServicePort(servicePort({ nodePort: 30001, loadBalancerIPs: ['192.168.5.5'], loadBalancerSourceRanges: ['10.1.0.0/16'] }));
    expect(plan.chains).toEqual([plan.svc, plan.ext, plan.fw]);
  });

  it('gives externalTrafficPolicy Local both endpoint chains (pods and the node still use all endpoints)', () => {
    const plan = planServicePort(servicePort({ nodePort: 30001, externalTrafficLocal: true }));
    expect(plan.chains).toEqual([plan.svc, plan.svl, plan.ext]);
    expect(plan.externalTarget).toBe(plan.svl);
  });

  it('gives a Service without endpoints no chains and REJECT verdicts', () => {
    const plan = planServicePort(servicePort({ clusterEndpoints: [], localEndpoints: [], nodePort: 30001 }));
    expect(plan.chains).toEqual([]);
    expect([plan.internalVerdict, plan.externalVerdict]).toEqual(['REJECT', 'REJECT']);
  });

  it('with internalTrafficPolicy Local and no local endpoint drops ClusterIP traffic but serves external traffic', () => {
    const plan = planServicePort(servicePort({ internalTrafficLocal: true, localEndpoints: [], nodePort: 30001 }));
    expect(plan.internalVerdict).toBe('DROP');
    expect(plan.externalVerdict).toBeUndefined();
    expect(plan.chains).toEqual([plan.svc, plan.ext]);
  });
});
