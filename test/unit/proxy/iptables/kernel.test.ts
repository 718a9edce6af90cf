import { describe, expect, it } from 'vitest';
import { parseVariant, parseRestoreFailure } from '../../../../proxy/iptables/kernel.ts';

describe('the iptables variant', () => {
  it('is read from `iptables --version`', () => {
    expect(parseVariant('iptables v1.8.9 (nf_tables)\n')).toBe('nft');
    expect(parseVariant('iptables v1.8.9 (legacy)\n')).toBe('legacy');
    expect(() => parseVariant('iptables v1.4.21\n')).toThrow('cannot detect the iptables backend: unexpected version "iptables v1.4.21"');
  });
});

describe('a failed restore', () => {
  const payload = '*nat\n:WEFT-X - [0:0]\n-A WEFT-X -j NOPE\nCOMMIT\n';

  it('names the failing line and what iptables said (legacy wording)', () => {
    const stderr = "iptables-restore v1.8.9 (legacy): Couldn't load target `NOPE':No such file or directory\n\nError occurred at line: 3\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.\n";
    const error = parseRestoreFailure(payload, stderr);
    expect(error.line).toBe(3);
    expect(error.message).toBe('cannot apply iptables rules: line 3 "-A WEFT-X -j NOPE" failed: iptables-restore v1.8.9 (legacy): Couldn\'t load target `NOPE\':No such file or directory');
  });

  it('understands the "line N failed" wording too', () => {
    expect(parseRestoreFailure(payload, 'iptables-restore: line 2 failed\n').text).toBe(':WEFT-X - [0:0]');
  });
});
