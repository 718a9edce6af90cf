import { formatMark } from '../core/config.ts';
import { HAIRPIN_CHAIN, POSTROUTING_CHAIN } from './chain-names.ts';
import { comment, host, rule, type Rule } from './rules.ts';

// Masquerade happens once, in POSTROUTING: packets marked on the way in are masqueraded and the mark
// cleared (so an encapsulated copy is not masqueraded twice). Hairpin (an endpoint reaching itself
// through its service) is found after DNAT, where source equals destination: one rule per endpoint
// address that may be on this node (core/endpoints.ts mayHairpin) in one shared chain (without a
// comment each, as endpoint rules), entered only by DNATed connections, instead of kube-proxy's mark
// rule in a chain per endpoint of the whole cluster.

export function renderMasquerade(mark: number): Rule[] {
  const m = formatMark(mark);
  const r = (text: string, ...parts: string[]) => rule('nat', POSTROUTING_CHAIN, comment(POSTROUTING_CHAIN, text), ...parts);
  return [
    r('hairpin connections', '-m conntrack --ctstate DNAT', `-j ${HAIRPIN_CHAIN}`),
    r('leave unmarked packets', `-m mark ! --mark ${m}/${m}`, '-j RETURN'),
    r('clear the masquerade mark', `-j MARK --xor-mark ${m}`),
    r('masquerade service traffic', '-j MASQUERADE --random-fully'),
  ];
}

export function renderHairpin(endpointIPs: readonly string[]): Rule[] {
  return [...new Set(endpointIPs)].map((ip) => rule('nat', HAIRPIN_CHAIN, `-s ${host(ip)} -d ${host(ip)}`, '-j MASQUERADE --random-fully'));
}
