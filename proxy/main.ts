import { createLogger, parseLogLevel } from '../lib/log.ts';
import { backendsFor } from './backends.ts';
import { CLEANUP_USAGE, isCleanup, parseCleanupArgs, runCleanup } from './cleanup-command.ts';
import { ObjectError } from './core/objects.ts';
import { DAEMON_USAGE, parseDaemonFlags } from './flags.ts';
import { parseRenderArgs, RENDER_USAGE, runRender, UsageError } from './render-command.ts';

// weft-proxy: the kube-proxy replacement. `weft-proxy [flags]` runs the daemon; `weft-proxy render`
// prints a full sync's iptables or nftables payload; `weft-proxy --cleanup` removes both modes' rules.

function isUsageError(error: unknown): boolean {
  // parseArgs reports unknown or malformed options as a TypeError carrying an ERR_PARSE_ARGS_* code.
  return error instanceof UsageError || (error instanceof TypeError && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS'));
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type Log = ReturnType<typeof createLogger>;

function render(argv: string[], log: Log): number {
  try {
    process.stdout.write(runRender(parseRenderArgs(argv), log));
    return 0;
  } catch (error) {
    log.error(message(error));
    if (isUsageError(error)) process.stderr.write(RENDER_USAGE);
    return isUsageError(error) || error instanceof ObjectError ? 2 : 1;
  }
}

async function cleanup(argv: string[], log: Log): Promise<number> {
  try {
    parseCleanupArgs(argv);
  } catch (error) {
    log.error(message(error));
    process.stderr.write(CLEANUP_USAGE);
    return 2;
  }
  const { backend, others } = backendsFor('iptables');
  try {
    await runCleanup([backend, ...others], log);
    return 0;
  } catch (error) {
    log.error(message(error));
    return 1;
  } finally {
    for (const b of [backend, ...others]) b.close();
  }
}

async function daemon(argv: string[], log: Log): Promise<number> {
  let flags;
  try {
    flags = parseDaemonFlags(argv);
  } catch (error) {
    log.error(message(error));
    if (isUsageError(error)) process.stderr.write(DAEMON_USAGE);
    return 2;
  }
  // Daemon code loads @kubernetes/client-node: import it only on this path.
  const { startDaemon } = await import('./daemon.ts');
  let running;
  try {
    running = await startDaemon(flags, log);
  } catch (error) {
    log.error(message(error), { error });
    return 1;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info('stopping; rules stay in place', { signal });
  await running.stop();
  // The HTTP client may keep an idle keep-alive socket open; a stopped daemon must still exit.
  setTimeout(() => process.exit(0), 1000).unref();
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const log = createLogger({ component: 'weft-proxy', level: parseLogLevel(process.env.WEFT_LOG_LEVEL, 'info') });
  const [command, ...rest] = argv;
  if (command === '--help' || command === 'help' || command === '-h') {
    process.stderr.write(DAEMON_USAGE);
    return 0;
  }
  if (command === 'render') return render(rest, log);
  if (isCleanup(argv)) return cleanup(argv, log);
  return daemon(argv, log);
}
