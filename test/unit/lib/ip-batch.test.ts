import { describe, expect, it } from 'vitest';
import { ipLine, parseIpBatchFailure } from '../../../lib/ip-batch.ts';

describe('ipLine', () => {
  it('writes plain words and numbers unchanged', () => {
    expect(ipLine`link set dev ${'eth0'} mtu ${1500}`).toBe('link set dev eth0 mtu 1500');
  });

  it.each(["'eth1'", '"x"', 'a#b', 'a b', '', 'a\\b', 'br\u0001', 'é'])('refuses to write %j, which ip -batch would read as another name', (value) => {
    expect(() => ipLine`link set dev ${value} up`).toThrow('cannot write');
  });
});

describe('parseIpBatchFailure', () => {
  it('names the failing line ip reports', () => {
    const error = parseIpBatchFailure(['link add a type dummy', 'link set a up'], { code: 1, stdout: '', stderr: 'RTNETLINK answers: File exists\nCommand failed -:2\n' });
    expect(error.line).toBe(2);
    expect(error.message).toBe('cannot apply "ip link set a up": RTNETLINK answers: File exists');
    expect(error.exists).toBe(true);
  });

  it('says plainly when ip stopped while parsing and named no line, instead of blaming an empty "ip "', () => {
    const error = parseIpBatchFailure(['link set dev x alias "' + 'a'.repeat(300) + '"'], { code: 255, stdout: '', stderr: 'Error: argument "aaaa" is wrong: "alias" too long\n' });
    expect(error.line).toBeUndefined();
    expect(error.message).toBe('cannot apply ip batch: ip stopped without naming the failing line: Error: argument "aaaa" is wrong: "alias" too long');
  });
});
