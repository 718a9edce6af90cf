import type { Logger } from '../lib/log.ts';
import type { Backend } from './core/backend.ts';
import { UsageError } from './flags.ts';

// `weft-proxy --cleanup`: removes everything either mode put on the node (iptables chains and jumps,
// the nftables table) and exits, as `kube-proxy --cleanup` does; for a node leaving weft-proxy, or
// switching to another proxy. Other weft components' rules stay.

export const CLEANUP_USAGE = 'usage: weft-proxy --cleanup   (remove the rules of both proxy modes, then exit)\n';

export function isCleanup(argv: readonly string[]): boolean {
  return argv.includes('--cleanup');
}

/** `--cleanup` stands alone: any other argument is a mistake worth naming. */
export function parseCleanupArgs(argv: readonly string[]): void {
  const other = argv.find((a) => a !== '--cleanup');
  if (other !== undefined) throw new UsageError(`cannot use "${other}" with "--cleanup": it takes no other option`);
}

/** Runs every backend's cleanup; returns the modes that had something to remove. Throws after trying all when one failed. */
export async function runCleanup(backends: readonly Backend[], log: Logger): Promise<string[]> {
  const removed: string[] = [];
  const failures: string[] = [];
  for (const backend of backends) {
    try {
      if (await backend.cleanup()) removed.push(backend.mode);
    } catch (error) {
      failures.push(`${backend.mode}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  log.info('cleanup done', { removed, failures });
  if (failures.length > 0) throw new Error(`cannot remove every proxy rule: ${failures.join('; ')}`);
  return removed;
}
