import { describe, expect, it } from 'vitest';
import { interfaceNameProblem, isDnsSubdomain, isInterfaceName, isPlainName, isSafeAbsolutePath } from '../../../lib/names.ts';

describe('isPlainName', () => {
  it('takes letters, digits, "_", "." and "-", starting with a letter or digit', () => {
    expect(['a', 'pod-1.x_y', '0abc'].every(isPlainName)).toBe(true);
    expect(['', '-a', '.a', 'a/b', 'a:b', 'a b', 'é'].filter(isPlainName)).toEqual([]);
  });
});

describe('interface names', () => {
  it('takes what the kernel takes and ip, ip -json and iptables-save read back unchanged', () => {
    expect(['eth0', 'a'.repeat(15), 'weft.1', 'net-1_a', 'a@b', 'v+1'].every(isInterfaceName)).toBe(true);
  });

  it.each([
    ['', 'is empty'],
    ['a'.repeat(16), 'is 16 characters long; the kernel takes at most 15'],
    ['é'.repeat(8), 'outside printable ASCII'],
    ['a/b', 'holds "/"'],
    ['a:b', 'holds ":"'],
    ['a b', 'holds a space'],
    ['.', 'is "." or ".."'],
    ['..', 'is "." or ".."'],
    ['br\u0001x', 'holds a control character (U+0001)'],
    ['eth\t1', 'holds a control character (U+0009)'],
    ["'eth1'", `holds "'"`],
    ['"x"', 'holds "\\""'],
    ['eth#1', 'holds "#"'],
    ['a\\b', 'holds "\\\\"'],
    ['eth%d', 'holds "%"'],
  ])('refuses %j: it %s', (name, problem) => {
    expect(interfaceNameProblem(name)).toContain(problem);
  });
});

describe('isSafeAbsolutePath', () => {
  it('takes absolute paths without ".." segments or NUL', () => {
    expect(['/run/weft/subnet.env', '/var/lib/a..b'].every(isSafeAbsolutePath)).toBe(true);
    expect(['run/x', '/var/lib/../etc', '/a/..', '/a\0b', ''].filter(isSafeAbsolutePath)).toEqual([]);
  });
});

describe('isDnsSubdomain', () => {
  it('takes lower-case DNS names up to 253 characters', () => {
    expect(['node-a', 'a.b.c', 'x1'].every(isDnsSubdomain)).toBe(true);
    expect(['Node-A', 'bad_name', 'a/x', '-a', 'a-', 'a\nb', 'a'.repeat(254)].filter(isDnsSubdomain)).toEqual([]);
  });
});
