import { createLogger, parseLogLevel } from '../../lib/log.ts';
import type { CniError } from './errors.ts';
import type { PluginIO } from './skeleton.ts';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString();
}

/** The real process's IO for a plugin: stdin, stdout, and a structured log on stderr or in WEFT_LOG_FILE. */
export function processIO(component: string): PluginIO {
  const env = process.env;
  return {
    env,
    readStdin: () => readAll(process.stdin),
    writeStdout: (text) => process.stdout.write(text),
    logError: (error: CniError) => {
      const log = createLogger({ component, level: parseLogLevel(env.WEFT_LOG_LEVEL, 'warn'), file: env.WEFT_LOG_FILE || undefined });
      log.error(error.message, { code: error.code, details: error.details, command: env.CNI_COMMAND, containerId: env.CNI_CONTAINERID });
    },
  };
}
