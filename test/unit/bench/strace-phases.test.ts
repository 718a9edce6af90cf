import { describe, expect, it } from 'vitest';
import { phasesFromStrace } from '../../../bench/strace-phases.ts';

const trace = [
  '100 1000.000000 execve("/usr/bin/nsenter", ["nsenter", "--net=/x", "--", "/bin/weft-bridge"], 0x1 /* 5 vars */) = 0',
  '100 1000.001000 execve("/bin/weft-bridge", ["/bin/weft-bridge"], 0x2 /* 5 vars */) = 0',
  '101 1000.030000 execve("/usr/local/bin/ip", ["ip", "-batch", "-"], 0x3 /* 5 vars */) = -1 ENOENT (No such file or directory)',
  '101 1000.030100 execve("/usr/sbin/ip", ["ip", "-batch", "-"], 0x3 /* 5 vars */) = 0',
  '102 1000.031000 +++ exited with 0 +++',
  '101 1000.035000 +++ exited with 0 +++',
  '103 1000.038000 execve("/usr/bin/nsenter", ["nsenter"], 0x4 /* 5 vars */) = 0',
  '103 1000.039000 execve("/usr/sbin/ip", ["ip"], 0x4 /* 5 vars */) = 0',
  '104 1000.040000 execve("/usr/sbin/ip", ["ip"], 0x4 /* 5 vars */) = 0',
  '104 1000.042000 +++ exited with 0 +++',
  '103 1000.044000 +++ exited with 0 +++',
  '100 1000.050000 +++ exited with 0 +++',
].join('\n');

describe('phasesFromStrace', () => {
  it('splits a plugin call into start-up, spawned programs (overlaps counted once) and its own work', () => {
    const phases = phasesFromStrace(trace, 'weft-bridge');
    expect(phases.children).toBe(3);
    expect(phases.totalMs).toBeCloseTo(49, 6);
    expect(phases.startupMs).toBeCloseTo(29, 6);
    expect(phases.childrenMs).toBeCloseTo(11, 6);
    expect(phases.ownMs).toBeCloseTo(9, 6);
  });

  it('ends start-up where the plugin reads its config, on any of its threads, when that comes before a child', () => {
    const lines = [
      '7 5.000000 execve("/p/weft-bridge", ["weft-bridge"], 0x1) = 0',
      '7 5.001000 read(3, "\\177ELF"..., 832) = 832',
      '8 5.030000 read(0, "{\\"cniVersion\\""..., 65536) = 300',
      '7 5.042000 +++ exited with 0 +++',
    ];
    const phases = phasesFromStrace(lines.join('\n'), 'weft-bridge');
    expect(phases.startupMs).toBeCloseTo(30, 6);
    expect(phases.ownMs).toBeCloseTo(12, 6);
    expect(phasesFromStrace(trace.replace('101 1000.030000', '100 1000.020000 read(0, "{}", 10) = 2\n101 1000.030000'), 'weft-bridge').startupMs).toBeCloseTo(19, 6);
  });

  it('counts a call without children or a config read as start-up only', () => {
    const phases = phasesFromStrace(['7 5.000000 execve("/p/host-local", ["host-local"], 0x1) = 0', '7 5.002000 +++ exited with 0 +++'].join('\n'), 'host-local');
    expect(phases).toMatchObject({ children: 0, childrenMs: 0, ownMs: 0 });
    expect(phases.startupMs).toBeCloseTo(2, 6);
  });

  it('rejects a trace without the plugin', () => {
    expect(() => phasesFromStrace('1 1.000000 execve("/bin/true", ["true"], 0x1) = 0\n1 1.1 +++ exited with 0 +++', 'weft-bridge')).toThrow(/cannot find/);
  });
});
