import { describe, expect, it } from 'vitest';
import { renderMasqueradeRules } from '../../../weftd/ip-masq.ts';
import { parseIpv4Cidr } from '../../../lib/ip.ts';

describe('renderMasqueradeRules', () => {
  it('keeps sources inside the cluster network and masquerades only traffic crossing its edge', () => {
    expect(renderMasqueradeRules(parseIpv4Cidr('10.244.0.0/16')!, parseIpv4Cidr('10.244.3.0/24')!)).toBe(
      [
        '*nat',
        ':WEFT-POSTRTG - [0:0]',
        '-A WEFT-POSTRTG -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment "weft: pod to pod, keep source" -j RETURN',
        '-A WEFT-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "weft: pod to outside" -j MASQUERADE --random-fully',
        '-A WEFT-POSTRTG ! -s 10.244.0.0/16 -d 10.244.3.0/24 -m comment --comment "weft: outside to local pods, keep source" -j RETURN',
        '-A WEFT-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment "weft: node to remote pods" -j MASQUERADE --random-fully',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });
});
