import { run } from '../../lib/exec.ts';
import { TABLE } from './table.ts';

// The only nftables code that touches the kernel: one `nft -f -` transaction per sync, fed on stdin,
// and the question whether our table exists. Unit tests inject a recording fake instead.

export class NftApplyError extends Error {
  constructor(detail: string) {
    super(`cannot apply nftables rules: ${detail}`);
    this.name = 'NftApplyError';
  }
}

export interface NftKernel {
  /** Applies `payload` as one transaction; throws NftApplyError when nft refuses it (nothing changes then). */
  apply(payload: string): Promise<void>;
  /** Whether the `ip weft` table exists. */
  hasTable(): Promise<boolean>;
}

/** `nft` in the node's network namespace (or `netns`, for tests). */
export function nftKernel(options: { netns?: string } = {}): NftKernel {
  return {
    async apply(payload) {
      if (payload === '') return;
      const result = await run('nft', ['-f', '-'], { ...options, input: payload });
      if (result.code !== 0) throw new NftApplyError(`nft exit ${result.code}: ${result.stderr.trim().split('\n').slice(0, 6).join('; ')}`);
    },
    async hasTable() {
      const result = await run('nft', ['list', 'tables', 'ip'], options);
      if (result.code !== 0) throw new NftApplyError(`nft exit ${result.code}: ${result.stderr.trim()}`);
      return result.stdout.split('\n').some((line) => line.trim() === `table ${TABLE}`);
    },
  };
}
