import { linkSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

// Every command is the same file under another name: bin/weft.ts dispatches on basename(argv0).
// Hard links, not symlinks, so copying the directory (cp, COPY in an image) installs every command
// without depending on the link target's location.

export const COMMAND_NAMES = ['weft-bridge', 'weft-host-local', 'weft-vxlan', 'weftd', 'weft-proxy'] as const;

/** Commands for the operator's machine, not for nodes: kubectl finds `kubectl-weft` on PATH as `kubectl weft`. */
export const CLIENT_COMMAND_NAMES = ['kubectl-weft'] as const;

export function linkCommands(binary: string, names: readonly string[] = COMMAND_NAMES): string[] {
  const dir = dirname(binary);
  return names.map((name) => {
    const link = join(dir, basename(name));
    rmSync(link, { force: true });
    linkSync(binary, link);
    return link;
  });
}
