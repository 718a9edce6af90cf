import { run } from '../../lib/exec.ts';
import { commitBatches } from '../../lib/netlink/netfilter-socket.ts';
import { encodeElementBatches, type SetElements } from '../../lib/netlink/nftables-elements.ts';
import { loaderEnvironment } from '../core/loader-environment.ts';
import { NftSession } from './session.ts';
import { TABLE, TABLE_NAME, type FreshLoad } from './table.ts';

// The only nftables code that touches the kernel. A full sync is one `nft -f -` fed on stdin (a fresh
// process for a table of any size), or on a node without the table several: the structure, then the
// element parts side by side with the group maps' elements as netlink batches (table.ts,
// renderFreshLoad), then the hooks; partial syncs go through one long-lived `nft -i` (session.ts),
// which keeps what it read of the kernel between transactions. Unit tests inject a recording fake.

export class NftApplyError extends Error {
  constructor(detail: string) {
    super(`cannot apply nftables rules: ${detail}`);
    this.name = 'NftApplyError';
  }
}

export interface NftKernel {
  /** Applies a full sync's payload as one transaction; throws when nft refuses it (nothing changes then). */
  replace(payload: string): Promise<void>;
  /** Whether the `ip weft` table exists. */
  hasTable(): Promise<boolean>;
  /**
   * Loads the table on a node without it: the structure, then the element parts and batches side by
   * side, then the hooks; throws when nft or the kernel refuses one (traffic meets the table only
   * once the hooks are in).
   */
  load(fresh: FreshLoad): Promise<void>;
  /** Applies a partial sync's payload as one transaction, the same way. */
  update(payload: string): Promise<void>;
  /** Deletes the `ip weft` table; false when there was none. */
  deleteTable(): Promise<boolean>;
  /** Ends the long-lived nft. */
  close(): void;
}

/** `sets`' elements as netlink batches, one transaction after the other. */
async function sendElements(sets: readonly SetElements[], netns: string | undefined): Promise<void> {
  if (sets.length === 0) return;
  await commitBatches(encodeElementBatches(TABLE_NAME, sets), netns);
}

/** `nft` in the node's network namespace (or `netns`, for tests). */
export function nftKernel(options: { netns?: string } = {}): NftKernel {
  const session = new NftSession(options);
  const exec = { ...options, env: loaderEnvironment() };
  const apply = async (payload: string): Promise<void> => {
    if (payload === '') return;
    const result = await run('nft', ['-f', '-'], { ...exec, input: payload });
    if (result.code !== 0) throw new NftApplyError(`nft exit ${result.code}: ${result.stderr.trim().split('\n').slice(0, 6).join('; ')}`);
  };
  return {
    replace: apply,
    async hasTable() {
      const result = await run('nft', ['list', 'tables'], exec);
      if (result.code !== 0) throw new NftApplyError(`nft exit ${result.code}: ${result.stderr.trim()}`);
      return result.stdout.split('\n').includes(`table ${TABLE}`);
    },
    async load(fresh) {
      await apply(fresh.structure);
      // Every part ends before the load does, refused or not: a retry never meets a running nft.
      const loaded = await Promise.allSettled([...fresh.elements.map(apply), sendElements(fresh.setElements, options.netns)]);
      const refused = loaded.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (refused) throw refused.reason;
      await apply(fresh.hooks);
    },
    async update(payload) {
      if (payload !== '') await session.apply(payload);
    },
    async deleteTable() {
      const result = await run('nft', ['delete', 'table', ...TABLE.split(' ')], exec);
      if (result.code === 0) return true;
      if (/No such file or directory/.test(result.stderr)) return false;
      throw new NftApplyError(`nft exit ${result.code}: ${result.stderr.trim()}`);
    },
    close: () => session.close(),
  };
}
