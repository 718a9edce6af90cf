import { statfsSync } from 'node:fs';
import { CniError, ErrorCode } from './errors.ts';

// CNI_NETNS names a network namespace the runtime made: a missing or wrong path is the runtime's
// mistake (code 4, naming the variable), not a netlink failure for `ip` to report in its own words.

const NSFS_MAGIC = 0x6e736673;

/** Throws code 4 unless `path` is a network namespace file (a bind mount under /run/netns, or /proc/PID/ns/net). */
export function assertNetnsExists(path: string): void {
  let type: number;
  try {
    type = Number(statfsSync(path).type);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'it does not exist' : `it cannot be read (${code ?? (error as Error).message})`;
    throw new CniError(ErrorCode.InvalidEnvironment, `invalid CNI_NETNS "${path}": ${why}`);
  }
  if (type !== NSFS_MAGIC) throw new CniError(ErrorCode.InvalidEnvironment, `invalid CNI_NETNS "${path}": it is not a namespace file`);
}
