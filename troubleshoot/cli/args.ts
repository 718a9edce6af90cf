import { FlagError, flag, parseFlags as parseCommandLine, type FlagSpec as Kind } from '../../lib/flags.ts';

// The troubleshooting commands' flags, read by weft's one command-line parser (lib/flags.ts): an
// unknown flag, a flag given twice, a value flag without a value or a boolean with a value that is
// not true or false is an error naming it; any of them is a usage error (exit 2).

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type FlagSpec = Readonly<Record<string, 'string' | 'boolean'>>;

export interface ParsedArgs {
  readonly values: ReadonlyMap<string, string | true>;
  readonly positionals: readonly string[];
}

const kinds: Record<'string' | 'boolean', Kind<unknown>> = { string: flag.string({ expectation: 'a value' }), boolean: flag.boolean() };

/** Parses argv against `spec` (flag names without "--"); positionals only when `positionals` allows that many. */
export function parseFlags(argv: readonly string[], spec: FlagSpec, options: { positionals?: number } = {}): ParsedArgs {
  try {
    const specs = Object.fromEntries(Object.entries(spec).map(([name, kind]) => [name, kinds[kind]]));
    const parsed = parseCommandLine(argv, specs, options);
    const values = new Map<string, string | true>();
    for (const name of parsed.given) {
      const value = parsed.values[name];
      if (value === true || (typeof value === 'string' && value !== '')) values.set(name, value);
    }
    return { values, positionals: parsed.positionals };
  } catch (error) {
    if (error instanceof FlagError) throw new UsageError(error.message);
    throw error;
  }
}

/** A string flag's value, or undefined. */
export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.values.get(name);
  return typeof value === 'string' ? value : undefined;
}

export function booleanFlag(args: ParsedArgs, name: string): boolean {
  return args.values.get(name) === true;
}
