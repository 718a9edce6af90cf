import { describe, expect, it } from 'vitest';
import { firstNonAscii } from '../../../build/bundle.ts';

describe('bundles stay ASCII', () => {
  it('finds the first byte outside ASCII, or -1', () => {
    expect(firstNonAscii(Buffer.from('const x = /(ns|us|\\u00b5s)/;'))).toBe(-1);
    expect(firstNonAscii(Buffer.from('const x = /(ns|us|\u00b5s)/;'))).toBe(18);
  });
});
