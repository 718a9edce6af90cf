import { describe, expect, it } from 'vitest';
import { tableHooked } from '../../../bench/proxy-kernel.ts';

const LISTING = (weft: string) => `table ip other {\n\tchain in {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n}\ntable ip weft {\n${weft}}\n`;

describe('tableHooked', () => {
  it('sees a table only once it holds a base chain', () => {
    expect(tableHooked(LISTING('\tchain services {\n\t}\n'), 'ip weft')).toBe(false);
    expect(tableHooked(LISTING('\tchain services {\n\t}\n\tchain nat-prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t}\n'), 'ip weft')).toBe(true);
    expect(tableHooked(LISTING(''), 'ip kube-proxy')).toBe(false);
  });
});
