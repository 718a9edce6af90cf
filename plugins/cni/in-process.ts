import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { spawnPlugin, type PluginInvoker } from './delegate.ts';
import { runPlugin, type Plugin } from './skeleton.ts';

// weft ships one executable under several names. When a delegate found in CNI_PATH is that same
// file (same inode: a hard link or a symlink to it), running it in-process gives the same behaviour
// without a second Node start, which would be most of a pod's ADD time.

function sameFile(a: string, b: string): boolean {
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

export function createSelfInvoker(plugins: Readonly<Record<string, () => Plugin<unknown>>>, self = process.execPath): PluginInvoker {
  return async (file, env, stdin) => {
    const load = plugins[basename(file)];
    if (!load || !sameFile(file, self)) return spawnPlugin(file, env, stdin);
    let stdout = '';
    const code = await runPlugin(load(), {
      env,
      readStdin: async () => stdin,
      writeStdout: (text) => {
        stdout += text;
      },
      logError: () => {}, // the delegating plugin reports the error it receives
    });
    return { code, stdout };
  };
}
