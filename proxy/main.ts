import { createLogger, parseLogLevel } from '../lib/log.ts';
import { DAEMON_USAGE, parseDaemonFlags } from './flags.ts';
import { ObjectError } from './objects.ts';
import { parseRenderArgs, RENDER_USAGE, runRender, UsageError } from './render-command.ts';

// weft-proxy: the kube-proxy replacement. `weft-proxy [flags]` runs the daemon; `weft-proxy render`
// prints a full sync's iptables or nftables payload.

function isUsageError(error: unknown): boolean {
  // parseArgs reports unknown or malformed options as a TypeError carrying an ERR_PARSE_ARGS_* code.
  return error instanceof UsageError || (error instanceof TypeError && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS'));
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function main(argv: string[]): Promise<number> {
  const log = createLogger({ component: 'weft-proxy', level: parseLogLevel(process.env.WEFT_LOG_LEVEL, 'info') });
  const [command, ...rest] = argv;
  if (command === '--help' || command === 'help' || command === '-h') {
    process.stderr.write(DAEMON_USAGE);
    return 0;
  }
  if (command === 'render') {
    try {
      process.stdout.write(runRender(parseRenderArgs(rest), log));
      return 0;
    } catch (error) {
      log.error(message(error));
      if (isUsageError(error)) process.stderr.write(RENDER_USAGE);
      return isUsageError(error) || error instanceof ObjectError ? 2 : 1;
    }
  }
  let flags;
  try {
    flags = parseDaemonFlags(argv);
  } catch (error) {
    log.error(message(error));
    if (isUsageError(error)) process.stderr.write(DAEMON_USAGE);
    return 2;
  }
  // Daemon code loads @kubernetes/client-node (~600 ms): import it only on this path.
  const { startDaemon } = await import('./daemon.ts');
  let daemon;
  try {
    daemon = await startDaemon(flags, log);
  } catch (error) {
    log.error(message(error), { error });
    return 1;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info('stopping; rules stay in place', { signal });
  await daemon.stop();
  // The HTTP client may keep an idle keep-alive socket open; a stopped daemon must still exit.
  setTimeout(() => process.exit(0), 1000).unref();
  return 0;
}
