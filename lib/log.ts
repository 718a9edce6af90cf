import { appendFileSync, openSync, closeSync } from 'node:fs';
import { redactSecrets } from './redact.ts';

// Structured logs: one JSON object per line, on stderr or in a file. Never stdout: for a CNI plugin
// stdout is the result the runtime parses. Passwords in URLs are redacted from every line.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  with(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  component: string;
  level?: LogLevel;
  /** Append to this file (created 0600) instead of writing to stderr. */
  file?: string;
}

export function parseLogLevel(value: string | undefined, fallback: LogLevel): LogLevel {
  return value !== undefined && value in RANK ? (value as LogLevel) : fallback;
}

function errorFields(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  return { message: value.message, ...(value.cause !== undefined ? { cause: errorFields(value.cause) } : {}) };
}

export function createLogger(options: LoggerOptions, base: Record<string, unknown> = {}): Logger {
  const min = RANK[options.level ?? 'info'];
  if (options.file) closeSync(openSync(options.file, 'a', 0o600));
  const write = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < min) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level, component: options.component, msg, ...base };
    for (const [k, v] of Object.entries(fields ?? {})) record[k] = errorFields(v);
    const line = redactSecrets(JSON.stringify(record)) + '\n';
    if (options.file) appendFileSync(options.file, line, { mode: 0o600 });
    else process.stderr.write(line);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    with: (fields) => createLogger(options, { ...base, ...fields }),
  };
}
