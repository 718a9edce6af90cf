import { linkSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

// Every command is one of two executables under another name: bin/weft.ts dispatches on basename(argv0).
// The CNI plugins are `weft-cni`, the daemons and kubectl-weft `weft`: the same bundle, started with
// different V8 flags (build/sea.ts). Hard links, not symlinks, so copying a directory (cp, COPY in an
// image) installs every command without depending on the link target's location.

export const EXECUTABLE = 'weft';
export const CNI_EXECUTABLE = 'weft-cni';

/** Started once per pod by the container runtime: the executable whose start is cheapest. */
export const CNI_COMMAND_NAMES = ['weft-bridge', 'weft-host-local', 'weft-vxlan'] as const;
export const DAEMON_COMMAND_NAMES = ['weftd', 'weft-proxy'] as const;
export const COMMAND_NAMES = [...CNI_COMMAND_NAMES, ...DAEMON_COMMAND_NAMES] as const;

/** Commands for the operator's machine, not for nodes: kubectl finds `kubectl-weft` on PATH as `kubectl weft`. */
export const CLIENT_COMMAND_NAMES = ['kubectl-weft'] as const;

export function linkCommands(binary: string, names: readonly string[]): string[] {
  const dir = dirname(binary);
  return names.map((name) => {
    const link = join(dir, basename(name));
    rmSync(link, { force: true });
    linkSync(binary, link);
    return link;
  });
}
