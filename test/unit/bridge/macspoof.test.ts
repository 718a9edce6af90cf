import { describe, expect, it } from 'vitest';
import { renderMacspoofAdd, renderMacspoofRemoval } from '../../../plugins/bridge/macspoof.ts';

const listing = JSON.stringify({
  nftables: [
    { metainfo: { version: '1.0.6' } },
    { table: { family: 'bridge', name: 'weft' } },
    { set: { family: 'bridge', name: 'guarded', table: 'weft', type: 'ifname', elem: ['weftaaaaaaaaaaa', 'weftbbbbbbbbbbb'] } },
    { set: { family: 'bridge', name: 'allowed', table: 'weft', type: ['ifname', 'ether_addr'], elem: [{ concat: ['weftaaaaaaaaaaa', '02:00:00:00:00:0a'] }, { concat: ['weftbbbbbbbbbbb', '02:00:00:00:00:0b'] }] } },
  ],
});

describe('macspoofchk rules', () => {
  it('adds the pod as set elements and rewrites the single rule in the same transaction', () => {
    const text = renderMacspoofAdd('weftaaaaaaaaaaa', '02:00:00:00:00:0a');
    expect(text).toContain('flush chain bridge weft prerouting\nadd rule bridge weft prerouting iifname @guarded iifname . ether saddr != @allowed drop');
    expect(text).toContain('add element bridge weft guarded { "weftaaaaaaaaaaa" }');
    expect(text).toContain('add element bridge weft allowed { "weftaaaaaaaaaaa" . 02:00:00:00:00:0a }');
  });

  it('removes only the selected interface, finding its MAC in the listing', () => {
    expect(renderMacspoofRemoval(listing, (n) => n === 'weftbbbbbbbbbbb')).toBe(
      'delete element bridge weft guarded { "weftbbbbbbbbbbb" }\ndelete element bridge weft allowed { "weftbbbbbbbbbbb" . 02:00:00:00:00:0b }\n',
    );
  });

  it('renders nothing for an interface not listed, so DEL twice is quiet', () => {
    expect(renderMacspoofRemoval(listing, (n) => n === 'weftccccccccccc')).toBe('');
  });
});

describe('macspoofchk table', () => {
  it('goes with its last pod: removing every guarded interface deletes the table', () => {
    expect(renderMacspoofRemoval(listing, (n) => n.startsWith('weft'))).toBe('delete table bridge weft\n');
  });

  it('goes when it guards nothing at all (a leftover GC finds)', () => {
    const empty = JSON.stringify({ nftables: [{ table: { family: 'bridge', name: 'weft' } }, { set: { name: 'guarded', elem: [] } }] });
    expect(renderMacspoofRemoval(empty, () => false)).toBe('delete table bridge weft\n');
  });
});
