import { createLogger, parseLogLevel } from '../lib/log.ts';
import { ObjectError } from './objects.ts';
import { parseRenderArgs, RENDER_USAGE, runRender, UsageError } from './render-command.ts';

// weft-proxy: the kube-proxy replacement. Subcommands: render (print a full sync's iptables payload).

export async function main(argv: string[]): Promise<number> {
  const log = createLogger({ component: 'weft-proxy', level: parseLogLevel(process.env.WEFT_LOG_LEVEL, 'info') });
  const [command, ...rest] = argv;
  if (command !== 'render') {
    process.stderr.write(RENDER_USAGE);
    return command === '--help' || command === 'help' ? 0 : 2;
  }
  try {
    process.stdout.write(runRender(parseRenderArgs(rest), log));
    return 0;
  } catch (error) {
    log.error(error instanceof Error ? error.message : String(error));
    // parseArgs reports unknown or malformed options as a TypeError carrying an ERR_PARSE_ARGS_* code.
    const badUsage = error instanceof UsageError || (error instanceof TypeError && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS'));
    if (badUsage) process.stderr.write(RENDER_USAGE);
    return badUsage || error instanceof ObjectError ? 2 : 1;
  }
}
