import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../plugins/vxlan/backoff.ts';
import { prefixRangeEnd } from '../../../plugins/vxlan/etcd-client.ts';

const decoded = (b64: string) => Buffer.from(b64, 'base64').toString('latin1');

describe('prefixRangeEnd', () => {
  it('ends a prefix range at the prefix with its last byte incremented', () => {
    expect(decoded(prefixRangeEnd('/coreos.com/network/subnets/'))).toBe('/coreos.com/network/subnets0');
  });
});

describe('Backoff', () => {
  it('doubles from 0.5 s up to its cap and starts over after reset', () => {
    const backoff = new Backoff(4000);
    expect([1, 2, 3, 4, 5].map(() => backoff.nextDelayMs())).toEqual([500, 1000, 2000, 4000, 4000]);
    backoff.reset();
    expect(backoff.nextDelayMs()).toBe(500);
  });
});
