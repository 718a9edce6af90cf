import { run } from '../../lib/exec.ts';

// The only nftables code that touches the kernel: one `nft -f -` transaction per sync, fed on stdin.

export class NftApplyError extends Error {
  constructor(detail: string) {
    super(`cannot apply nftables rules: ${detail}`);
    this.name = 'NftApplyError';
  }
}

export async function applyNft(payload: string, options: { netns?: string } = {}): Promise<void> {
  if (payload === '') return;
  const result = await run('nft', ['-f', '-'], { ...options, input: payload });
  if (result.code !== 0) throw new NftApplyError(`nft exit ${result.code}: ${result.stderr.trim().split('\n').slice(0, 6).join('; ')}`);
}
