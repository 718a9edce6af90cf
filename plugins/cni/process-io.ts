import { writeSync } from 'node:fs';
import { FileError, readBoundedFd } from '../../lib/files.ts';
import { createLogger, parseLogLevel } from '../../lib/log.ts';
import { CniError, ErrorCode } from './errors.ts';
import type { PluginIO } from './skeleton.ts';

/** A network config with prevResult and thousands of GC attachments stays far below this; /dev/zero does not. */
export const MAX_STDIN_BYTES = 16 * 1024 * 1024;

function tooLarge(): CniError {
  return new CniError(ErrorCode.DecodeFailure, `cannot decode network configuration: stdin holds more than ${MAX_STDIN_BYTES} bytes`);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += buffer.length;
    if (total > MAX_STDIN_BYTES) throw tooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString();
}

/** Likewise a synchronous write of the (small) result, instead of creating process.stdout. */
function writeStdout(text: string): void {
  try {
    writeSync(1, text);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    process.stdout.write(text);
  }
}

/**
 * Runtimes hand the config over a blocking pipe: one synchronous read skips setting up process.stdin
 * as a stream (~6 ms a call, measured). A non-blocking stdin (EAGAIN) falls back to the stream.
 * Either way at most MAX_STDIN_BYTES are read.
 */
async function readStdin(): Promise<string> {
  try {
    return readBoundedFd(0, MAX_STDIN_BYTES, 'stdin');
  } catch (error) {
    if (error instanceof FileError) throw tooLarge();
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
