import { describe, expect, it } from 'vitest';
import { renderHairpin, renderMasquerade } from '../../../../proxy/iptables/render-masquerade.ts';
import { formatRule } from '../../../../proxy/iptables/rules.ts';
import { EP1, EP2 } from '../fixtures.ts';

describe('masquerade (nat WEFT-POSTROUTING)', () => {
  it('masquerades marked packets with --random-fully after clearing the mark, and sends DNATed ones by the hairpin chain', () => {
    expect(renderMasquerade(0x4000).map(formatRule)).toEqual([
      '-A WEFT-POSTROUTING -m comment --comment "WEFT-POSTROUTING hairpin connections" -m conntrack --ctstate DNAT -j WEFT-HAIRPIN',
      '-A WEFT-POSTROUTING -m comment --comment "WEFT-POSTROUTING leave unmarked packets" -m mark ! --mark 0x4000/0x4000 -j RETURN',
      '-A WEFT-POSTROUTING -m comment --comment "WEFT-POSTROUTING clear the masquerade mark" -j MARK --xor-mark 0x4000',
      '-A WEFT-POSTROUTING -m comment --comment "WEFT-POSTROUTING masquerade service traffic" -j MASQUERADE --random-fully',
    ]);
  });
});

describe('hairpin (nat WEFT-HAIRPIN)', () => {
  it('masquerades an endpoint reaching itself, one rule per endpoint address across all services', () => {
    expect(renderHairpin([EP1.ip, EP2.ip, EP1.ip]).map(formatRule)).toEqual([
      '-A WEFT-HAIRPIN -s 10.180.0.1/32 -d 10.180.0.1/32 -j MASQUERADE --random-fully',
      '-A WEFT-HAIRPIN -s 10.180.0.2/32 -d 10.180.0.2/32 -j MASQUERADE --random-fully',
    ]);
  });
});
