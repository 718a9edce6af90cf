import { isObject } from './json.ts';
import { interfaceNameProblem, isSafeAbsolutePath } from './names.ts';

// Reading fields of parsed JSON config (CNI network configs, weftd's network config), one way for
// all: absent is undefined (the caller applies its default), anything else must be what the field
// takes, and every error reads `"field" must be <what it takes>, got <the value>`.

export class FieldError extends Error {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`"${field}" ${problem}`);
    this.name = 'FieldError';
    this.field = field;
  }
}

/** A value as an error message shows it: JSON, cut to 80 characters. */
export function showValue(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function mustBe(field: string, expectation: string, value: unknown): FieldError {
  return new FieldError(field, `must be ${expectation}, got ${showValue(value)}`);
}

type Json = Readonly<Record<string, unknown>>;

/** null counts as absent, as encoding/json reads it in the reference plugins. */
function present(record: Json, key: string): unknown {
  const value = record[key];
  return value === null ? undefined : value;
}

export function readBoolean(record: Json, key: string, field: string = key): boolean | undefined {
  const value = present(record, key);
  if (value === undefined || typeof value === 'boolean') return value;
  throw mustBe(field, 'true or false', value);
}

export function readInteger(record: Json, key: string, range: { min: number; max: number }, field: string = key): number | undefined {
  const value = present(record, key);
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) throw mustBe(field, `an integer from ${range.min} to ${range.max}`, value);
  return value;
}

/** A string; the empty string counts as absent (the reference plugins' zero value). */
export function readString(record: Json, key: string, field: string = key): string | undefined {
  const value = present(record, key);
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw mustBe(field, 'a string', value);
  return value;
}

export function readObject(record: Json, key: string, field: string = key): Record<string, unknown> | undefined {
  const value = present(record, key);
  if (value === undefined || isObject(value)) return value;
  throw mustBe(field, 'an object', value);
}

export function readList(record: Json, key: string, field: string = key): unknown[] | undefined {
  const value = present(record, key);
  if (value === undefined || Array.isArray(value)) return value;
  throw mustBe(field, 'a list', value);
}

/** A string that `check` turns into a value, or undefined with what the field takes instead. */
export function readParsed<T>(record: Json, key: string, parse: { expectation: string; check(text: string): T | undefined }, field: string = key): T | undefined {
  const text = readString(record, key, field);
  if (text === undefined) return undefined;
  const value = parse.check(text);
  if (value === undefined) throw mustBe(field, parse.expectation, text);
  return value;
}

export const ABSOLUTE_PATH = { expectation: 'an absolute path without ".."', check: (text: string) => (isSafeAbsolutePath(text) ? text : undefined) };

export function readInterfaceName(record: Json, key: string, field: string = key): string | undefined {
  const value = present(record, key);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw mustBe(field, 'an interface name', value);
  const problem = interfaceNameProblem(value);
  if (problem) throw new FieldError(field, `must be an interface name, got ${showValue(value)}, which ${problem}`);
  return value;
}
