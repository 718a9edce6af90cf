import { describe, expect, it } from 'vitest';
import { AppliedParts } from '../../../proxy/nftables/applied-parts.ts';
import { CONFIG, EP1, EP2, EP3, servicePort } from './fixtures.ts';

const WEB = servicePort();
const API = servicePort({ key: 'ns1/api:http', service: 'ns1/api', clusterIP: '172.30.0.42', clusterEndpoints: [EP1, EP3] });
const CHANGED_WEB = new Set(['ns1/web']);

describe('AppliedParts', () => {
  it('turns one endpoint change into deleting and re-adding the changed map elements and hairpin pairs only', () => {
    const { applied } = AppliedParts.full([WEB, API], CONFIG);
    const payload = applied.partial([{ ...WEB, clusterEndpoints: [EP1, EP3] }, API], CHANGED_WEB);
    expect(payload?.split('\n')).toEqual([
      'delete element ip weft hairpin { 10.180.0.2 . 10.180.0.2 }',
      'delete element ip weft eps-2 { 172.30.0.41 . tcp . 80 . 1 }',
      'add element ip weft eps-2 { 172.30.0.41 . tcp . 80 . 1 : 10.180.1.3 . 8080 }',
      '',
    ]);
  });

  it('keeps an element another Service still wants (a shared endpoint hairpin pair)', () => {
    const { applied } = AppliedParts.full([WEB, API], CONFIG);
    const payload = applied.partial([{ ...WEB, clusterEndpoints: [EP2] }, API], CHANGED_WEB) ?? '';
    expect(payload).not.toContain('10.180.0.1 . 10.180.0.1');
    expect(payload).toContain('delete element ip weft svcs-2 { 172.30.0.41 . tcp . 80 }');
    expect(payload).toContain('add element ip weft svcs-1 { 172.30.0.41 . tcp . 80 }');
  });

  it('declares a new group with its chain and the rewritten dispatch jumps when a Service moves into it', () => {
    const { applied } = AppliedParts.full([WEB, API], CONFIG);
    const lines = (applied.partial([{ ...WEB, clusterEndpoints: [EP2] }, API], CHANGED_WEB) ?? '').split('\n');
    const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
    expect(at('add set ip weft svcs-1')).toBeLessThan(at('add element ip weft svcs-1'));
    expect(lines).toContain('add rule ip weft services jump group-1');
    expect(lines).toContain('add rule ip weft group-1 ip daddr . meta l4proto . th dport @svcs-1 dnat ip addr . port to ip daddr . meta l4proto . th dport . numgen random mod 1 map @eps-1');
    expect(lines.some((l) => l.startsWith('delete'))).toBe(true);
    expect(lines.some((l) => l.startsWith('delete set') || l.startsWith('delete chain'))).toBe(false);
  });

  it('removes a group, its chains and its maps once its last Service leaves it, and then forgets it', () => {
    const { applied } = AppliedParts.full([WEB, { ...API, clusterEndpoints: [EP3] }], CONFIG);
    const payload = applied.partial([WEB], new Set(['ns1/api'])) ?? '';
    expect(payload).toContain('delete chain ip weft group-1');
    expect(payload).toContain('delete map ip weft eps-1');
    expect(applied.groups).toEqual([2]);
    expect(applied.partial([WEB], new Set(['ns1/api']))).toBe('');
  });

  it('writes nothing when a changed Service renders the same parts', () => {
    const { applied } = AppliedParts.full([WEB, API], CONFIG);
    expect(applied.partial([WEB, API], CHANGED_WEB)).toBe('');
  });
});
