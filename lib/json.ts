// Narrowing for parsed JSON, where every value starts as unknown.

/** A JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A tool's JSON output, parsed; undefined for empty output, an error naming `what` for anything else. */
export function parseToolJson(text: string, what: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    throw new Error(`cannot read ${what}: not JSON: "${trimmed.slice(0, 80)}"`);
  }
}
