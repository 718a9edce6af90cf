import { readFileSync, writeSync } from 'node:fs';
import { createLogger, parseLogLevel } from '../../lib/log.ts';
import type { CniError } from './errors.ts';
import type { PluginIO } from './skeleton.ts';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString();
}

/**
 * Runtimes hand the config over a blocking pipe: one synchronous read skips setting up process.stdin
 * as a stream (~6 ms a call, measured). A non-blocking stdin (EAGAIN) falls back to the stream.
 */
/** Likewise a synchronous write of the (small) result, instead of creating process.stdout. */
function writeStdout(text: string): void {
  try {
    writeSync(1, text);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    process.stdout.write(text);
  }
}

async function readStdin(): Promise<string> {
  try {
    return readFileSync(0, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    return readAll(process.stdin);
  }
}

/** The real process's IO for a plugin: stdin, stdout, and a structured log on stderr or in WEFT_LOG_FILE. */
export function processIO(component: string): PluginIO {
  const env = process.env;
  return {
    env,
    readStdin,
    writeStdout,
    logError: (error: CniError) => {
      const log = createLogger({ component, level: parseLogLevel(env.WEFT_LOG_LEVEL, 'warn'), file: env.WEFT_LOG_FILE || undefined });
      log.error(error.message, { code: error.code, details: error.details, command: env.CNI_COMMAND, containerId: env.CNI_CONTAINERID });
    },
  };
}
