import { readFileSync } from 'node:fs';
import { processIO } from '../cni/process-io.ts';
import { runPlugin, type Plugin } from '../cni/skeleton.ts';
import type { HostLocalConfig } from './config.ts';
import { createHostLocalPlugin } from './plugin.ts';
import { openFileStore } from './store.ts';

/** host-local wired to the real files; also what weft-bridge runs in-process as its IPAM delegate. */
export function hostLocalPlugin(): Plugin<HostLocalConfig> {
  return createHostLocalPlugin({
    openStore: (config) => openFileStore(config.dataDir, config.network),
    readFile: (path) => readFileSync(path, 'utf8'),
  });
}

export function main(_argv: string[]): Promise<number> {
  return runPlugin(hostLocalPlugin(), processIO('weft-host-local'));
}
