import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256, toHex } from '../../../lib/sha256.ts';

describe('sha256', () => {
  it('gives the FIPS 180-4 test vectors', () => {
    expect(toHex(sha256(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(sha256('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(toHex(sha256('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('agrees with node:crypto at every length around the block and length-field boundaries, and for non-ASCII text', () => {
    for (let length = 0; length <= 200; length++) {
      const text = 'weft\0'.repeat(41).slice(0, length);
      expect(toHex(sha256(text)), `length ${length}`).toBe(createHash('sha256').update(text).digest('hex'));
    }
    expect(toHex(sha256('pod\0é\0漢'))).toBe(createHash('sha256').update('pod\0é\0漢').digest('hex'));
  });
});
