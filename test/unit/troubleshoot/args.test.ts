import { describe, expect, it } from 'vitest';
import { booleanFlag, parseFlags, stringFlag } from '../../../troubleshoot/cli/args.ts';

const SPEC = { from: 'string', json: 'boolean' } as const;

describe('the troubleshooting commands\' flag parser', () => {
  it('takes --flag value and --flag=value, and boolean flags', () => {
    const args = parseFlags(['--from', '10.0.0.1', '--json'], SPEC);
    expect(stringFlag(args, 'from')).toBe('10.0.0.1');
    expect(booleanFlag(args, 'json')).toBe(true);
    expect(stringFlag(parseFlags(['--from=10.0.0.2'], SPEC), 'from')).toBe('10.0.0.2');
  });

  it('names an unknown flag, a repeated one, and a value missing or given to a boolean', () => {
    expect(() => parseFlags(['--frm', 'x'], SPEC)).toThrow('unknown flag "--frm"');
    expect(() => parseFlags(['--from', 'a', '--from', 'b'], SPEC)).toThrow('flag "--from" is given twice');
    expect(() => parseFlags(['--from'], SPEC)).toThrow('flag "--from" needs a value');
    expect(() => parseFlags(['--from', '--json'], SPEC)).toThrow('flag "--from" needs a value');
    expect(() => parseFlags(['--json=yes'], SPEC)).toThrow('flag "--json" takes no value, got "yes"');
  });

  it('refuses arguments beyond the positionals a command takes', () => {
    expect(() => parseFlags(['extra'], SPEC)).toThrow('unexpected argument "extra"');
    expect(parseFlags(['a', 'b', '--json'], SPEC, { positionals: 2 }).positionals).toEqual(['a', 'b']);
    expect(() => parseFlags(['a', 'b', 'c'], SPEC, { positionals: 2 })).toThrow('unexpected argument "c"');
  });
});
