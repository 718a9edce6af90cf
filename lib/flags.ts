import { parseDuration } from './duration.ts';
import { parseCidr, parseIpv4, parseIpv4Cidr } from './ip.ts';
import { interfaceNameProblem, isDnsSubdomain, isSafeAbsolutePath } from './names.ts';
import { redactSecrets } from './redact.ts';

// The one command-line parser of every weft command (weftd, weft-proxy, weft-proxy render, weft
// explain, weft doctor, kubectl-weft) and script (cluster, conformance, demos, fuzz). Strict, so a
// value is never silently misread:
//   --name=value or --name value; a boolean is --name, or --name=B with B one of Go's
//   strconv.ParseBool spellings (1 t T TRUE true True, 0 f F FALSE false False), the values
//   kube-proxy's (pflag) and flannel's (Go flag) booleans take; "yes" is an error, not false;
//   numbers are decimal integers in range (pflag reads 0x0e and 014 as 14 and 12: weft refuses
//   them, and 1e1, +1 and " 1" too); a flag given twice, an empty value (unless the flag gives the
//   empty value a meaning), an unknown flag or a stray argument is an error naming it. Values a
//   flag cannot take are shown in errors redacted (URL credentials).

export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

export interface FlagSpec<T> {
  readonly boolean?: true;
  /** What the flag takes, for errors: "a decimal integer from 0 to 31". */
  readonly expectation: string;
  /** The value, or undefined when text is not one. */
  parse(text: string): T | undefined;
  readonly fallback: T;
  /** The flag must be given. */
  readonly required?: boolean;
  /** The empty value is allowed and means `emptyValue` (a listener turned off). */
  readonly empty?: { readonly value: T };
  /** How a rejected value is shown (URLs without their password). */
  readonly show?: (text: string) => string;
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool. */
export function parseBool(text: string): boolean | undefined {
  return TRUE.has(text) ? true : FALSE.has(text) ? false : undefined;
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

export function parseDecimal(text: string, range: { min: number; max: number }): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const n = Number(text);
  return n >= range.min && n <= range.max ? n : undefined;
}

type Options<T> = { fallback?: T; required?: boolean };

function withOptions<T>(spec: Omit<FlagSpec<T>, 'fallback'> & { fallback: T }, options: Options<T>): FlagSpec<T> {
  return { ...spec, ...(options.fallback !== undefined ? { fallback: options.fallback } : {}), ...(options.required ? { required: true } : {}) };
}

export interface BindAddress {
  readonly host: string;
  readonly port: number;
}

function parseBindAddress(text: string): BindAddress | undefined {
  const colon = text.lastIndexOf(':');
  const port = parseDecimal(text.slice(colon + 1), { min: 1, max: 65535 });
  const host = text.slice(0, colon);
  return colon > 0 && port !== undefined && parseIpv4(host) !== undefined ? { host, port } : undefined;
}

/** An etcd or API endpoint: http(s), a host, a port from 1 to 65535 if given, no path, no credentials. */
function parseEndpointUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const ok = (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.port !== '0' && url.username === '' && url.password === '' && (url.pathname === '/' || url.pathname === '') && url.search === '' && url.hash === '';
  // The URL parser drops an empty port ("http://h:"); the text must say what it means.
  return ok && !/:\/?$/.test(text.replace(/^https?:\/\//, '')) ? text.replace(/\/$/, '') : undefined;
}

function list<T>(item: (text: string) => T | undefined): (text: string) => T[] | undefined {
  return (text) => {
    const items = text.split(',').map(item);
    return items.every((i) => i !== undefined) ? (items as T[]) : undefined;
  };
}

/** Flag kinds; each names what it takes the way errors print it. */
export const flag = {
  boolean(options: Options<boolean> = {}): FlagSpec<boolean> {
    return withOptions({ boolean: true, expectation: 'true or false (or 1, t, T, TRUE, True, 0, f, F, FALSE, False)', parse: parseBool, fallback: false }, options);
  },
  integer(range: { min: number; max: number }, options: Options<number> = {}): FlagSpec<number | undefined> {
    return withOptions<number | undefined>({ expectation: `a decimal integer from ${range.min} to ${range.max}`, parse: (t) => parseDecimal(t, range), fallback: undefined }, options);
  },
  string(check: { expectation: string; parse?: (text: string) => string | undefined }, options: Options<string> & { empty?: boolean } = {}): FlagSpec<string> {
    return withOptions({ expectation: check.expectation, parse: check.parse ?? ((t) => t), fallback: '', ...(options.empty ? { empty: { value: '' } } : {}) }, options);
  },
  oneOf<T extends string>(values: readonly T[], options: Options<T> & { fallback: T }): FlagSpec<T> {
    return withOptions({ expectation: `one of ${values.map((v) => `"${v}"`).join(', ')}`, parse: (t) => (values as readonly string[]).includes(t) ? (t as T) : undefined, fallback: options.fallback }, options);
  },
  /** A Go duration in milliseconds, within [min, max]. */
  duration(range: { min: number; max: number }, options: Options<number> = {}): FlagSpec<number | undefined> {
    const parse = (t: string) => {
      const ms = parseDuration(t);
      return ms !== undefined && ms >= range.min && ms <= range.max ? ms : undefined;
    };
    return withOptions<number | undefined>({ expectation: 'a duration such as 500ms, 1s or 1h30m', parse, fallback: undefined }, options);
  },
  ipv4(options: Options<string> = {}): FlagSpec<string | undefined> {
    return withOptions<string | undefined>({ expectation: 'an IPv4 address', parse: (t) => (parseIpv4(t) === undefined ? undefined : t), fallback: undefined }, options);
  },
  ipv4Cidr(options: Options<string> = {}): FlagSpec<string | undefined> {
    return withOptions<string | undefined>({ expectation: 'an IPv4 CIDR such as 10.244.0.0/16', parse: (t) => (parseIpv4Cidr(t) === undefined ? undefined : t), fallback: undefined }, options);
  },
  /** IPv4:PORT; the empty value turns the listener off. */
  bindAddress(fallback: BindAddress | undefined): FlagSpec<BindAddress | undefined> {
    return { expectation: 'IPv4:PORT (or empty to turn it off)', parse: parseBindAddress, fallback, empty: { value: undefined } };
  },
  /** CIDRs separated by commas, each checked with `item`. */
  cidrList(extra: { expectation: string; allow?: readonly string[] }): FlagSpec<string[]> {
    return { expectation: extra.expectation, parse: list((t) => ((extra.allow ?? []).includes(t) || parseCidr(t)?.ip.family === 4 ? t : undefined)), fallback: [], empty: { value: [] } };
  },
  endpointUrls(options: Options<string[]> = {}): FlagSpec<string[]> {
    return withOptions({ expectation: 'http(s)://HOST[:PORT] URLs separated by commas, without credentials or a path', parse: list(parseEndpointUrl), fallback: [] as string[], show: redactSecrets }, options);
  },
  absolutePath(options: Options<string> = {}): FlagSpec<string | undefined> {
    return withOptions<string | undefined>({ expectation: 'an absolute path without ".."', parse: (t) => (isSafeAbsolutePath(t) ? t : undefined), fallback: undefined }, options);
  },
  interfaceName(): FlagSpec<string | undefined> {
    return { expectation: 'an interface name (1 to 15 printable characters, no "/", ":", quotes, "#", "\\" or "%")', parse: (t) => (interfaceNameProblem(t) ? undefined : t), fallback: undefined };
  },
  /** A Kubernetes node name: a DNS subdomain, lower case. */
  nodeName(options: Options<string> = {}): FlagSpec<string | undefined> {
    return withOptions<string | undefined>({ expectation: 'a node name (a lower-case DNS subdomain)', parse: (t) => (isDnsSubdomain(t) ? t : undefined), fallback: undefined }, options);
  },
};

type Specs = Readonly<Record<string, FlagSpec<unknown>>>;
export type FlagValues<S extends Specs> = { -readonly [K in keyof S]: S[K] extends FlagSpec<infer T> ? T : never };

export interface ParsedFlags<S extends Specs> {
  readonly values: FlagValues<S>;
  /** The flags given on the command line (as opposed to defaulted). */
  readonly given: ReadonlySet<keyof S & string>;
  /** Arguments that are not flags, when the command takes some (options.positionals). */
  readonly positionals: readonly string[];
}

function show(spec: FlagSpec<unknown>, text: string): string {
  return JSON.stringify(spec.show ? spec.show(text) : text);
}

/**
 * Parses argv against the specs; throws FlagError naming the flag for anything it cannot take. Up to
 * `positionals` arguments that do not start with "-" may stand anywhere among the flags.
 */
export function parseFlags<S extends Specs>(argv: readonly string[], specs: S, options: { positionals?: number } = {}): ParsedFlags<S> {
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') && positionals.length < (options.positionals ?? 0)) {
      positionals.push(arg);
      continue;
    }
    const match = /^--([a-z0-9][a-z0-9-]*)(?:=([\s\S]*))?$/.exec(arg);
    if (!match) throw new FlagError(arg.startsWith('-') ? `cannot parse "${arg}": flags are written --name or --name=value` : `cannot parse "${arg}": unexpected argument`);
    const name = match[1]!;
    const spec = specs[name];
    if (!spec) throw new FlagError(`cannot parse "--${name}": unknown flag`);
    if (given.has(name)) throw new FlagError(`cannot parse "--${name}": given more than once`);
    given.add(name);
    let text = match[2];
    if (text === undefined && !spec.boolean) {
      if (i + 1 >= argv.length) throw new FlagError(`cannot parse "--${name}": needs a value (${spec.expectation})`);
      text = argv[++i]!;
    }
    if (text === undefined) {
      values[name] = true;
      continue;
    }
    if (text === '') {
      if (!spec.empty) throw new FlagError(`cannot parse "--${name}": needs a value (${spec.expectation}), got an empty one`);
      values[name] = spec.empty.value;
      continue;
    }
    const value = spec.parse(text);
    if (value === undefined) throw new FlagError(`cannot parse "--${name}": must be ${spec.expectation}, got ${show(spec, text)}`);
    values[name] = value;
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (given.has(name)) continue;
    if (spec.required) throw new FlagError(`cannot run: "--${name}" is required`);
    values[name] = spec.fallback;
  }
  return { values: values as FlagValues<S>, given: given as ReadonlySet<keyof S & string>, positionals };
}
