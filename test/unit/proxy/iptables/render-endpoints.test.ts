import { describe, expect, it } from 'vitest';
import { affinityListName } from '../../../../proxy/core/service-names.ts';
import { probability, renderAffinity, renderEndpointChain, renderEndpointSelection } from '../../../../proxy/iptables/render-endpoints.ts';
import { formatRule } from '../../../../proxy/iptables/rules.ts';
import { EP1, EP2, EP3, servicePort } from '../fixtures.ts';

const C = 'WEFT-SVC-TESTTESTTESTTEST';
const lines = (rules: { table: string; chain: string; spec: string }[]) => rules.map((r) => formatRule(r as never));

describe('endpoint selection', () => {
  it('gives endpoint i of n the probability 1/(n-i) and the last one none, for an even spread', () => {
    expect(lines(renderEndpointSelection(C, { sp: servicePort(), endpoints: [EP1, EP2, EP3] }))).toEqual([
      `-A ${C} -p tcp -m statistic --mode random --probability 0.3333333333 -j DNAT --to-destination 10.180.0.1:8080`,
      `-A ${C} -p tcp -m statistic --mode random --probability 0.5000000000 -j DNAT --to-destination 10.180.0.2:8080`,
      `-A ${C} -p tcp -j DNAT --to-destination 10.180.1.3:8080`,
    ]);
  });

  it('prints probabilities with ten decimals', () => {
    expect([0, 1, 2, 3].map((i) => probability(i, 4))).toEqual(['0.2500000000', '0.3333333333', '0.5000000000', '1.0000000000']);
  });

  it('with one endpoint DNATs unconditionally', () => {
    expect(lines(renderEndpointSelection(C, { sp: servicePort({ protocol: 'udp' }), endpoints: [EP1] }))).toEqual([
      `-A ${C} -p udp -j DNAT --to-destination 10.180.0.1:8080`,
    ]);
  });
});

describe('session affinity', () => {
  const sp = servicePort({ affinitySeconds: 10800 });
  const l1 = affinityListName({ key: sp.key, protocol: 'tcp' }, '10.180.0.1:8080');
  const l2 = affinityListName({ key: sp.key, protocol: 'tcp' }, '10.180.0.2:8080');

  it('sends a recent client back to its endpoint and refreshes its entry in the same DNAT rule', () => {
    expect(lines(renderAffinity(C, { sp, endpoints: [EP1, EP2] }))).toEqual([
      `-A ${C} -p tcp -m recent --name ${l1} --rcheck --seconds 10800 --reap --rsource -m recent --name ${l1} --set --rsource -j DNAT --to-destination 10.180.0.1:8080`,
      `-A ${C} -p tcp -m recent --name ${l2} --rcheck --seconds 10800 --reap --rsource -m recent --name ${l2} --set --rsource -j DNAT --to-destination 10.180.0.2:8080`,
    ]);
  });

  it('records a new client in the list of the endpoint the spread picked', () => {
    expect(lines(renderEndpointSelection(C, { sp, endpoints: [EP1, EP2] }))).toEqual([
      `-A ${C} -p tcp -m statistic --mode random --probability 0.5000000000 -m recent --name ${l1} --set --rsource -j DNAT --to-destination 10.180.0.1:8080`,
      `-A ${C} -p tcp -m recent --name ${l2} --set --rsource -j DNAT --to-destination 10.180.0.2:8080`,
    ]);
  });

  it('renders nothing without ClientIP affinity', () => {
    expect(renderAffinity(C, { sp: servicePort(), endpoints: [EP1, EP2] })).toEqual([]);
  });
});

describe('an endpoint chain', () => {
  it('used by a ClusterIP first marks traffic from outside the cluster CIDR for masquerade', () => {
    const rules = lines(renderEndpointChain(C, { sp: servicePort(), endpoints: [EP1] }, { masqueradeOffCluster: { clusterCidr: '10.180.0.0/16', mark: 0x4000 } }));
    expect(rules[0]).toBe(
      `-A ${C} -m comment --comment "WEFT-SVC ns1/web:http cluster IP from outside the cluster" ! -s 10.180.0.0/16 -d 172.30.0.41/32 -p tcp --dport 80 -j MARK --or-mark 0x4000`,
    );
    expect(rules).toHaveLength(2);
  });

  it('used only by external traffic has no masquerade rule of its own', () => {
    expect(lines(renderEndpointChain(C, { sp: servicePort(), endpoints: [EP1] }))).toHaveLength(1);
  });
});
