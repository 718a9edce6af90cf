import { dirname, join } from 'node:path';

// The netlink addon (socket.c, built beside the executable) and the kernel's refusals. The addon
// opens the socket, in another network namespace when asked; requests and replies are plain reads
// and writes on it.

export const NETLINK_ADDON = 'weft-netlink.node';

export const NETLINK_ROUTE = 0;
export const NETLINK_NETFILTER = 12;

interface NetlinkAddon {
  openNetlinkSocket(protocol: number, netnsFd?: number): number;
  errnoMessage(errno: number): string;
}

let addon: NetlinkAddon | undefined;

/** Beside the single executable; from the sources (tests), where `npm run build` puts it. */
function addonPath(): string {
  if (process.getBuiltinModule('node:sea').isSea()) return join(dirname(process.execPath), NETLINK_ADDON);
  return join(import.meta.dirname, '..', '..', 'dist', 'bin', NETLINK_ADDON);
}

function loadAddon(): NetlinkAddon {
  if (addon) return addon;
  const path = addonPath();
  const module = { exports: {} as NetlinkAddon };
  try {
    process.dlopen(module, path);
  } catch (error) {
    throw new Error(`cannot load "${path}" (install it beside the weft executable): ${(error as Error).message}`);
  }
  addon = module.exports;
  return addon;
}

/** A netlink socket of `protocol` in this process's namespace, or in the namespace open as netnsFd; its file descriptor. */
export function openNetlinkSocket(protocol: typeof NETLINK_ROUTE | typeof NETLINK_NETFILTER, netnsFd?: number): number {
  return loadAddon().openNetlinkSocket(protocol, netnsFd);
}

const EEXIST = 17;
const MISSING_ERRNOS = new Set([2, 3, 19, 99]); // ENOENT, ESRCH, ENODEV, EADDRNOTAVAIL

/** The kernel refused a request: its errno, and its own explanation when it gave one. */
export class NetlinkError extends Error {
  readonly errno: number;
  readonly detail: string | undefined;
  constructor(action: string, errno: number, detail?: string) {
    const name = process.getBuiltinModule('node:util').getSystemErrorName(-errno);
    super(`cannot ${action}: ${loadAddon().errnoMessage(errno)} (${name})${detail ? `: ${detail}` : ''}`);
    this.name = 'NetlinkError';
    this.errno = errno;
    this.detail = detail;
  }
  get exists(): boolean {
    return this.errno === EEXIST;
  }
  get missing(): boolean {
    return MISSING_ERRNOS.has(this.errno);
  }
}
