import { describe, expect, it } from 'vitest';
import { formatIp, parseIp } from '../../../lib/ip.ts';
import { candidateOrder, freeAddresses } from '../../../plugins/host-local/allocator.ts';
import { parseHostLocalConfig } from '../../../plugins/host-local/config.ts';
import type { RangeSet } from '../../../plugins/host-local/range.ts';
import { request } from './fixtures.ts';

function rangeSet(...ranges: Record<string, string>[]): RangeSet {
  return parseHostLocalConfig({ cniVersion: '1.1.0', name: 'n', type: 't', ipam: { ranges: [ranges] } }, request()).rangeSets[0]!;
}

const ip = (text: string) => parseIp(text)!;
const order = (set: RangeSet, last?: string, limit = 100) => [...candidateOrder(set, last ? ip(last) : undefined)].slice(0, limit).map(formatIp);
const taken = (...ips: string[]) => new Set(ips.map((t) => ip(t).value));

describe('allocator candidate order', () => {
  const slash29 = rangeSet({ subnet: '10.1.0.0/29' });

  it('starts at the range start and skips the gateway (.1) and the broadcast', () => {
    expect(order(slash29)).toEqual(['10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5', '10.1.0.6']);
  });

  it('continues after the last reserved address and wraps around to it', () => {
    expect(order(slash29, '10.1.0.4')).toEqual(['10.1.0.5', '10.1.0.6', '10.1.0.2', '10.1.0.3', '10.1.0.4']);
    expect(order(slash29, '10.1.0.6')).toEqual(['10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5', '10.1.0.6']);
  });

  it('starts from the beginning when the last reserved address is outside the set', () => {
    expect(order(slash29, '10.9.0.4')).toEqual(order(slash29));
  });

  it('skips a gateway placed inside the range and never offers the network address', () => {
    const set = rangeSet({ subnet: '10.1.0.0/29', rangeStart: '10.1.0.0', gateway: '10.1.0.3' });
    expect(order(set)).toEqual(['10.1.0.1', '10.1.0.2', '10.1.0.4', '10.1.0.5', '10.1.0.6']);
  });

  it('walks the ranges of a set in order and wraps from the last range to the first', () => {
    const set = rangeSet({ subnet: '10.1.0.0/24', rangeStart: '10.1.0.10', rangeEnd: '10.1.0.11' }, { subnet: '10.2.0.0/24', rangeStart: '10.2.0.5', rangeEnd: '10.2.0.6' });
    expect(order(set, '10.1.0.11')).toEqual(['10.2.0.5', '10.2.0.6', '10.1.0.10', '10.1.0.11']);
    expect(order(set, '10.2.0.6')).toEqual(['10.1.0.10', '10.1.0.11', '10.2.0.5', '10.2.0.6']);
  });

  it('offers the IPv6 subnet\'s last address (no broadcast in IPv6) and skips the gateway', () => {
    expect(order(rangeSet({ subnet: 'fd00::/126' }))).toEqual(['fd00::2', 'fd00::3']);
  });

  it('yields lazily, so a huge IPv6 range costs only the addresses before the first free one', () => {
    const first = freeAddresses(rangeSet({ subnet: 'fd00::/64' }), { last: ip('fd00::7'), taken: taken('fd00::8') }).next();
    expect(formatIp(first.value!)).toBe('fd00::9');
  });
});

describe('allocator free addresses', () => {
  const slash29 = rangeSet({ subnet: '10.1.0.0/29' });
  const free = (last: string | undefined, ...used: string[]) => [...freeAddresses(slash29, { last: last ? ip(last) : undefined, taken: taken(...used) })].map(formatIp);

  it('skips taken addresses in round-robin order', () => {
    expect(free('10.1.0.2', '10.1.0.3', '10.1.0.5')).toEqual(['10.1.0.4', '10.1.0.6', '10.1.0.2']);
  });

  it('is empty when every address is taken', () => {
    expect(free(undefined, '10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5', '10.1.0.6')).toEqual([]);
  });
});
