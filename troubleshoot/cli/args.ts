// The troubleshooting commands' own small flag parser, as strict as the daemons': an unknown flag is
// an error naming it, a flag given twice is an error, a value flag needs a value. `--flag value` and
// `--flag=value` both work. (The hardening issue brings a shared parser to lib/; this one is meant to
// be switched to it.)

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

/** Parses argv against `spec` (flag names without "--"); positionals only when `positionals` allows that many. */
export function parseFlags(argv: readonly string[], spec: FlagSpec, options: { positionals?: number } = {}): ParsedArgs {
  const values = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const kind = spec[name];
    if (kind === undefined) throw new UsageError(`unknown flag "--${name}"`);
    if (values.has(name)) throw new UsageError(`flag "--${name}" is given twice`);
    if (kind === 'boolean') {
      if (eq >= 0) throw new UsageError(`flag "--${name}" takes no value, got "${arg.slice(eq + 1)}"`);
      values.set(name, true);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new UsageError(`flag "--${name}" needs a value`);
    values.set(name, value);
  }
  const allowed = options.positionals ?? 0;
  if (positionals.length > allowed) throw new UsageError(`unexpected argument "${positionals[allowed]}"`);
  return { values, positionals };
}

/** A string flag's value, or undefined. */
export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.values.get(name);
  return typeof value === 'string' ? value : undefined;
}

export function booleanFlag(args: ParsedArgs, name: string): boolean {
  return args.values.get(name) === true;
}
