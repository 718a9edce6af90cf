import { describe, expect, it } from 'vitest';
import { BatchReportReader } from '../../../lib/batch-session.ts';

describe('BatchReportReader', () => {
  it('gives each "Command failed" report the messages ip printed before it', () => {
    const reader = new BatchReportReader();
    expect(reader.push('RTNETLINK answers: File exists\nCommand failed -:2\nDevice "." does not exist.\nCommand failed -:3\n')).toEqual([
      { line: 2, message: 'RTNETLINK answers: File exists' },
      { line: 3, message: 'Device "." does not exist.' },
    ]);
  });

  it('reads reports split across chunks anywhere, even inside a line', () => {
    const reader = new BatchReportReader();
    expect(reader.push('Cannot find dev')).toEqual([]);
    expect(reader.push('ice "x"\nCommand fai')).toEqual([]);
    expect(reader.push('led -:7\n')).toEqual([{ line: 7, message: 'Cannot find device "x"' }]);
  });

  it('keeps what ip said after its last report, for a program that exited mid-request', () => {
    const reader = new BatchReportReader();
    reader.push('Command failed -:1\nRTNETLINK answers: No such file or directory\n');
    expect(reader.unreported()).toBe('RTNETLINK answers: No such file or directory');
  });
});
