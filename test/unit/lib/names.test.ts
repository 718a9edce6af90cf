import { describe, expect, it } from 'vitest';
import { isInterfaceName, isPlainName, isSafeAbsolutePath } from '../../../lib/names.ts';

describe('isPlainName', () => {
  it('accepts letters, digits, "_", "." and "-" starting with a letter or digit, nothing else', () => {
    expect(['a', 'pod-1.x_y', '0abc'].every(isPlainName)).toBe(true);
    expect(['', '-a', '.a', 'a/b', 'a:b', 'a b', 'é'].filter(isPlainName)).toEqual([]);
  });
});

describe('isInterfaceName', () => {
  it('accepts 1 to 15 bytes without "/", ":" or whitespace, and not "." or ".."', () => {
    expect(['eth0', 'a'.repeat(15), 'weft.1'].every(isInterfaceName)).toBe(true);
    expect(['', 'a'.repeat(16), 'é'.repeat(8), 'a/b', 'a:b', 'a b', '.', '..'].filter(isInterfaceName)).toEqual([]);
  });
});

describe('isSafeAbsolutePath', () => {
  it('accepts absolute paths without ".." segments or NUL', () => {
    expect(['/run/weft/subnet.env', '/var/lib/a..b'].every(isSafeAbsolutePath)).toBe(true);
    expect(['run/x', '/var/lib/../etc', '/a/..', '/a\0b', ''].filter(isSafeAbsolutePath)).toEqual([]);
  });
});
