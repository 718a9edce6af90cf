import { describe, expect, it } from 'vitest';
import { parseLdd } from '../../../build/rootfs.ts';

describe('parseLdd', () => {
  it('lists resolved libraries and the interpreter, not the vDSO or unresolved names', () => {
    const output = [
      '\tlinux-vdso.so.1 (0x00007ffd1b3e6000)',
      '\tlibmnl.so.0 => /lib/x86_64-linux-gnu/libmnl.so.0 (0x00007f5f1c0e5000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f5f1bf04000)',
      '\tlibgone.so.1 => not found',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f5f1c12e000)',
    ].join('\n');
    expect(parseLdd(output)).toEqual(['/lib/x86_64-linux-gnu/libmnl.so.0', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
  });

  it('finds nothing in the output for a static binary', () => {
    expect(parseLdd('\tnot a dynamic executable\n')).toEqual([]);
  });
});
