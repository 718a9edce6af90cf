import { describe, expect, it } from 'vitest';
import { prefixRangeEnd } from '../../../weftd/subnet/etcd-client.ts';

const decoded = (b64: string) => Buffer.from(b64, 'base64').toString('latin1');

describe('prefixRangeEnd', () => {
  it('ends a prefix range at the prefix with its last byte incremented', () => {
    expect(decoded(prefixRangeEnd('/coreos.com/network/subnets/'))).toBe('/coreos.com/network/subnets0');
  });
});
