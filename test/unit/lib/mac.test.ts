import { describe, expect, it } from 'vitest';
import { isMacAddress, localMacFromDigest } from '../../../lib/mac.ts';

describe('localMacFromDigest', () => {
  it('takes the first six bytes and makes them a locally administered unicast MAC', () => {
    expect(localMacFromDigest(Uint8Array.from([0xff, 1, 2, 3, 4, 5, 6, 7]))).toBe('fe:01:02:03:04:05');
    expect(localMacFromDigest(Uint8Array.from([0x01, 0xaa, 0, 0, 0, 0x10]))).toBe('02:aa:00:00:00:10');
  });
});

describe('isMacAddress', () => {
  it('accepts the lower-case colon form only', () => {
    expect(isMacAddress('0a:00:00:00:00:01')).toBe(true);
    expect(['0A:00:00:00:00:01', '0a-00-00-00-00-01', '0a:00:00:00:00', 'nope'].filter(isMacAddress)).toEqual([]);
  });
});
