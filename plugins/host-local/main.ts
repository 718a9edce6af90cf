import { readBoundedFile } from '../../lib/files.ts';
import { processIO } from '../cni/process-io.ts';
import { runPlugin, type Plugin } from '../cni/skeleton.ts';
import type { HostLocalConfig } from './config.ts';
import { createHostLocalPlugin } from './plugin.ts';
import { openFileStore } from './store.ts';

/** host-local wired to the real files; also what weft-bridge runs in-process as its IPAM delegate. */
export function hostLocalPlugin(): Plugin<HostLocalConfig> {
  return createHostLocalPlugin({
    openStore: (config) => openFileStore(config.dataDir, config.network),
    // resolv.conf is a few lines; a path to a device or a FIFO must fail, not read for ever.
    readFile: (path) => readBoundedFile(path, { maxBytes: 64 * 1024 }),
  });
}

export function main(_argv: string[]): Promise<number> {
  return runPlugin(hostLocalPlugin(), processIO('weft-host-local'));
}
