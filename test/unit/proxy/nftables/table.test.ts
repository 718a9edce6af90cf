import { describe, expect, it } from 'vitest';
import { countPayloadLines, elementKey, renderElementChanges, renderFreshLoad, renderFullSync, renderTableDiff, type NftTable } from '../../../../proxy/nftables/table.ts';

const BASE: NftTable = {
  sets: [
    { name: 'svcs-2', map: false, spec: 'typeof ip daddr . th dport;', elements: ['10.96.0.1 . 80', '10.96.0.2 . 80'] },
    { name: 'eps-2', map: true, spec: 'typeof ip daddr . th dport . numgen random mod 2 : ip daddr . th dport;', elements: ['10.96.0.1 . 80 . 0 : 10.1.0.1 . 8080', '10.96.0.1 . 80 . 1 : 10.1.0.2 . 8080'] },
    { name: 'aff', map: false, spec: 'type ipv4_addr; flags dynamic,timeout; timeout 60s;' },
  ],
  chains: [
    { name: 'nat-prerouting', hook: 'type nat hook prerouting priority dstnat; policy accept;', rules: ['jump services'] },
    { name: 'services', rules: ['jump group-2'] },
    { name: 'group-2', rules: ['ip daddr . th dport @svcs-2 dnat ip addr . port to ip daddr . th dport . numgen random mod 2 map @eps-2'] },
  ],
};

describe('renderFreshLoad', () => {
  it('creates the table and its chains without hooks first, the elements apart (as netlink element lists where weft knows the layout), the base chains last', () => {
    expect(renderFreshLoad(BASE, 2)).toEqual({
      structure: [
        'create table ip weft',
        'add set ip weft svcs-2 { typeof ip daddr . th dport; }',
        'add map ip weft eps-2 { typeof ip daddr . th dport . numgen random mod 2 : ip daddr . th dport; }',
        'add set ip weft aff { type ipv4_addr; flags dynamic,timeout; timeout 60s; }',
        'add chain ip weft services',
        'add chain ip weft group-2',
        'add rule ip weft services jump group-2',
        'add rule ip weft group-2 ip daddr . th dport @svcs-2 dnat ip addr . port to ip daddr . th dport . numgen random mod 2 map @eps-2',
        '',
      ].join('\n'),
      elements: ['add element ip weft eps-2 { 10.96.0.1 . 80 . 0 : 10.1.0.1 . 8080, 10.96.0.1 . 80 . 1 : 10.1.0.2 . 8080 }\n'],
      setElements: [{ set: 'svcs-2', layout: { key: ['ipv4', 'port'] }, elements: ['10.96.0.1 . 80', '10.96.0.2 . 80'] }],
      hooks: ['add chain ip weft nat-prerouting { type nat hook prerouting priority dstnat; policy accept; }', 'add rule ip weft nat-prerouting jump services', ''].join('\n'),
    });
  });

  it('splits the elements nft writes into parts of about as many elements each, every element in one part', () => {
    const many = (n: number, base: number) => Array.from({ length: n }, (_, i) => `10.${base}.${Math.floor(i / 250)}.${i % 250} . tcp . 80`);
    const spec = 'typeof ip daddr . meta l4proto . th dport;';
    const table: NftTable = { sets: [{ name: 'a', map: false, spec, elements: many(9000, 96) }, { name: 'b', map: false, spec, elements: many(3000, 97) }], chains: [] };
    const { elements } = renderFreshLoad(table, 4);
    const counts = elements.map((part) => part.split(', ').length + (part.match(/\n/g)?.length ?? 0) - 1);
    expect(counts).toEqual([3000, 4000, 3000, 2000]);
    const all = elements.join('').match(/10\.9[67]\.\d+\.\d+ \. tcp \. 80/g) ?? [];
    expect(new Set(all).size).toBe(12000);
    expect(all.length).toBe(12000);
    expect(renderFreshLoad({ sets: [], chains: [] }, 4).elements).toEqual([]);
  });
});

describe('renderFullSync', () => {
  it('replaces the table in one transaction: declarations before elements and rules, dynamic sets left empty', () => {
    expect(renderFullSync(BASE)).toBe(
      [
        'add table ip weft',
        'delete table ip weft',
        'add table ip weft',
        'add set ip weft svcs-2 { typeof ip daddr . th dport; }',
        'add map ip weft eps-2 { typeof ip daddr . th dport . numgen random mod 2 : ip daddr . th dport; }',
        'add set ip weft aff { type ipv4_addr; flags dynamic,timeout; timeout 60s; }',
        'add chain ip weft nat-prerouting { type nat hook prerouting priority dstnat; policy accept; }',
        'add chain ip weft services',
        'add chain ip weft group-2',
        'add element ip weft svcs-2 { 10.96.0.1 . 80, 10.96.0.2 . 80 }',
        'add element ip weft eps-2 { 10.96.0.1 . 80 . 0 : 10.1.0.1 . 8080, 10.96.0.1 . 80 . 1 : 10.1.0.2 . 8080 }',
        'add rule ip weft nat-prerouting jump services',
        'add rule ip weft services jump group-2',
        'add rule ip weft group-2 ip daddr . th dport @svcs-2 dnat ip addr . port to ip daddr . th dport . numgen random mod 2 map @eps-2',
        '',
      ].join('\n'),
    );
  });

  it('splits element lists of 100k elements into lines of 2,000', () => {
    const elements = Array.from({ length: 5000 }, (_, i) => `10.96.${i >> 8}.${i & 255} . 80`);
    const text = renderFullSync({ sets: [{ name: 's', map: false, spec: 'typeof ip daddr . th dport;', elements }], chains: [] });
    expect(text.split('\n').filter((l) => l.startsWith('add element'))).toHaveLength(3);
    expect(countPayloadLines(text)).toBe(3);
  });
});

describe('renderTableDiff', () => {
  it('is empty when nothing changed', () => {
    expect(renderTableDiff(BASE, BASE, [])).toBe('');
  });

  it('is only the element lines when the declarations stay: a changed map value is its key deleted, then added', () => {
    const lines = renderElementChanges(['eps-2 10.96.0.1 . 80 . 1 : 10.1.0.2 . 8080'], ['eps-2 10.96.0.1 . 80 . 1 : 10.1.0.9 . 8080']);
    expect(renderTableDiff(BASE, BASE, lines)).toBe('delete element ip weft eps-2 { 10.96.0.1 . 80 . 1 }\nadd element ip weft eps-2 { 10.96.0.1 . 80 . 1 : 10.1.0.9 . 8080 }\n');
  });

  it('adds new sets and chains first, rewrites changed chains, then removes stale chains before stale sets', () => {
    const after: NftTable = {
      sets: [BASE.sets[2] as NftTable['sets'][number], { name: 'svcs-1', map: false, spec: 'typeof ip daddr . th dport;', elements: ['10.96.0.1 . 80'] }],
      chains: [BASE.chains[0] as NftTable['chains'][number], { name: 'services', rules: ['jump group-1'] }, { name: 'group-1', rules: ['ip daddr . th dport @svcs-1 accept'] }],
    };
    expect(renderTableDiff(BASE, after, renderElementChanges([], ['svcs-1 10.96.0.1 . 80']))?.split('\n')).toEqual([
      'add set ip weft svcs-1 { typeof ip daddr . th dport; }',
      'add chain ip weft group-1',
      'add element ip weft svcs-1 { 10.96.0.1 . 80 }',
      'flush chain ip weft services',
      'add rule ip weft services jump group-1',
      'add rule ip weft group-1 ip daddr . th dport @svcs-1 accept',
      'flush chain ip weft group-2',
      'delete chain ip weft group-2',
      'delete set ip weft svcs-2',
      'delete map ip weft eps-2',
      '',
    ]);
  });

  it('asks for a full sync when a set changes type or a base chain changes hook', () => {
    const retyped: NftTable = { ...BASE, sets: BASE.sets.map((s) => (s.name === 'aff' ? { ...s, spec: 'type ipv4_addr; flags dynamic,timeout; timeout 30s;' } : s)) };
    expect(renderTableDiff(BASE, retyped, [])).toBeUndefined();
    const rehooked: NftTable = { ...BASE, chains: BASE.chains.map((c) => (c.hook ? { ...c, hook: 'type nat hook output priority -100; policy accept;' } : c)) };
    expect(renderTableDiff(BASE, rehooked, [])).toBeUndefined();
  });
});

describe('elementKey', () => {
  it('keeps a map element key and a set element whole, without a comment', () => {
    expect(elementKey('1.2.3.4 . 80 . 0 : 10.0.0.1 . 8080')).toBe('1.2.3.4 . 80 . 0');
    expect(elementKey('1.2.3.4 . 80')).toBe('1.2.3.4 . 80');
    expect(elementKey('1.2.3.4 . 80 comment "ns/web:http" : goto WEFT-SVC-X')).toBe('1.2.3.4 . 80');
    expect(elementKey('1.2.3.4 . 80 comment "ns/web:http"')).toBe('1.2.3.4 . 80');
  });
});
