import { describe, expect, it } from 'vitest';
import { asOneLine, splitAtMarker } from '../../../../proxy/nftables/session.ts';

const MARKER = (n: number) => `Error: Could not process rule: No such file or directory\ndelete table ip weft-sync-done-${n}\n                ^^^^^^^^^^^^^^^^^^^^^\n`;

describe('the nft -i session', () => {
  it('sends a payload as one line, so nft applies it as one transaction', () => {
    expect(asOneLine('delete element ip weft eps-2 { 1 }\nadd element ip weft eps-2 { 2 }\n')).toBe('delete element ip weft eps-2 { 1 }; add element ip weft eps-2 { 2 }');
  });

  it('reads a transaction as applied when the marker\'s error is all nft said before the next one', () => {
    expect(splitAtMarker(MARKER(3), 3)).toEqual({ said: '', rest: '' });
    expect(splitAtMarker(MARKER(3) + 'Error: next', 3)).toEqual({ said: '', rest: 'Error: next' });
  });

  it('hands back what nft said about a refused transaction', () => {
    const refused = 'Error: No such file or directory; did you mean set ‘eps-2’ in table ip ‘weft’?\nadd element ip weft eps-3 { 1 }\n                    ^^^^^\n';
    expect(splitAtMarker(refused + MARKER(4), 4)?.said).toBe(refused.trim());
  });

  it('waits until the marker\'s answer is complete', () => {
    expect(splitAtMarker('Error: Could not process rule: No such file or directory\ndelete table ip weft-sync-done-5\n', 5)).toBeUndefined();
    expect(splitAtMarker(MARKER(5), 6)).toBeUndefined();
  });
});
