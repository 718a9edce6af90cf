import { Random } from './random.ts';

// The fuzz corpus for the command lines: per command, every flag with values it must take (and what
// they must come out as) and values it must refuse; a case is a valid base command line with one
// flag given a valid value, an invalid one, an empty one, or twice.

export interface FlagModel {
  readonly name: string;
  /** Values the flag takes, with what the parsed result must then hold. */
  readonly valid: readonly (readonly [text: string, expected: unknown])[];
  readonly invalid: readonly string[];
  /** What the empty value means, when the flag gives it a meaning (a listener off). */
  readonly empty?: { readonly expected: unknown };
  /** Reads the flag's effect from the parsed result. */
  read(parsed: any): unknown;
  /** A boolean: `--name` alone means true. */
  readonly boolean?: true;
}

export interface CommandModel {
  readonly command: string;
  readonly base: readonly string[];
  readonly flags: readonly FlagModel[];
  parse(argv: readonly string[]): unknown;
}

export type FlagCase =
  | { readonly kind: 'valid'; readonly argv: string[]; readonly flag: FlagModel; readonly expected: unknown }
  | { readonly kind: 'refused'; readonly argv: string[]; readonly flag: FlagModel; readonly why: string };

const BOOL_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const BOOL_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];
/** Spellings a sloppy parser would take as something. */
export const NOT_BOOLEAN = ['yes', 'no', 'on', 'off', 'Y', 'tRUE', 'truee', ' true', '2', '-1', 'null'];
const NOT_DECIMAL = ['0x0e', '1e1', '014', '+1', ' 1', '1 ', '1.0', '-0', '١', 'NaN', 'Infinity', '1_0'];

export function booleanModel(name: string, read: (p: any) => unknown): FlagModel {
  return { name, boolean: true, valid: [...BOOL_TRUE.map((t) => [t, true] as const), ...BOOL_FALSE.map((t) => [t, false] as const)], invalid: NOT_BOOLEAN, read };
}

export function integerModel(name: string, range: { min: number; max: number }, read: (p: any) => unknown, scale = 1): FlagModel {
  const samples = [range.min, range.max, Math.floor((range.min + range.max) / 2)];
  return {
    name,
    valid: samples.map((n) => [String(n), n * scale] as const),
    invalid: [...NOT_DECIMAL, String(range.min - 1), String(range.max + 1), String(range.max * 10 + 7)],
    read,
  };
}

/** Case `index` for the command: valid, invalid, empty or duplicated, picked by the seeded generator. */
export function generateFlagCase(model: CommandModel, seed: number, index: number): FlagCase {
  const rng = new Random((seed ^ Math.imul(index + 7, 0x85ebca6b)) >>> 0);
  const flag = rng.pick(model.flags);
  const base = model.base.filter((arg) => !arg.startsWith(`--${flag.name}=`) && arg !== `--${flag.name}`);
  const form = (text: string): string[] => (flag.boolean || rng.chance(0.5) ? [`--${flag.name}=${text}`] : [`--${flag.name}`, text]);
  const roll = rng.next();
  if (roll < 0.45) {
    const [text, expected] = rng.pick(flag.valid);
    return { kind: 'valid', argv: [...base, ...form(text)], flag, expected };
  }
  if (roll < 0.8 && flag.invalid.length > 0) return { kind: 'refused', argv: [...base, ...form(rng.pick(flag.invalid))], flag, why: 'an invalid value' };
  if (roll < 0.9) {
    if (flag.empty) return { kind: 'valid', argv: [...base, `--${flag.name}=`], flag, expected: flag.empty.expected };
    return { kind: 'refused', argv: [...base, `--${flag.name}=`], flag, why: 'an empty value' };
  }
  const [text] = rng.pick(flag.valid);
  return { kind: 'refused', argv: [...base, ...form(text!), ...form(text!)], flag, why: 'the flag twice' };
}
