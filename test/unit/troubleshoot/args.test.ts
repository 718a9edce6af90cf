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

  it('names an unknown flag, a repeated one, a missing or empty value and a boolean that is not true or false, as usage errors', () => {
    expect(() => parseFlags(['--frm', 'x'], SPEC)).toThrow('cannot parse "--frm": unknown flag');
    expect(() => parseFlags(['--from', 'a', '--from', 'b'], SPEC)).toThrow('cannot parse "--from": given more than once');
    expect(() => parseFlags(['--from'], SPEC)).toThrow('cannot parse "--from": needs a value');
    expect(() => parseFlags(['--from='], SPEC)).toThrow(/cannot parse "--from": needs a value .*got an empty one/);
    expect(() => parseFlags(['--json=yes'], SPEC)).toThrow(/cannot parse "--json": must be true or false/);
    expect(() => parseFlags(['--json=yes'], SPEC)).toThrow(expect.objectContaining({ name: 'UsageError' }));
    expect(booleanFlag(parseFlags(['--json=false'], SPEC), 'json')).toBe(false);
  });

  it('refuses arguments beyond the positionals a command takes', () => {
    expect(() => parseFlags(['extra'], SPEC)).toThrow('cannot parse "extra": unexpected argument');
    expect(parseFlags(['a', 'b', '--json'], SPEC, { positionals: 2 }).positionals).toEqual(['a', 'b']);
    expect(parseFlags(['a', '--json', 'b'], SPEC, { positionals: 2 }).positionals).toEqual(['a', 'b']);
    expect(() => parseFlags(['a', 'b', 'c'], SPEC, { positionals: 2 })).toThrow('cannot parse "c": unexpected argument');
  });
});
