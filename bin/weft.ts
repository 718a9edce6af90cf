import { basename } from 'node:path';
import { spawnWithoutChildProcess } from '../lib/exec.ts';
import { loadDaemons, loadOverlayDaemon } from './load-daemons.ts';

// The single executable: dispatches on the name it was called by (weft-bridge, weft-host-local, ...),
// or on its first argument when called as `weft <command>`. Each command is imported only when chosen.

type Main = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<{ main: Main }>> = {
  'weft-bridge': () => import('../plugins/bridge/main.ts'),
  'weft-host-local': () => import('../plugins/host-local/main.ts'),
  'weft-vxlan': () => import('../plugins/vxlan/main.ts'),
  'weft-proxy': async () => ({ main: (await loadDaemons({ proxy: true })).weftProxy }),
  weftd: async () => ({ main: async (argv) => (await loadOverlayDaemon()).weftd(argv, async () => (await loadDaemons()).loadKubeSubnetManager()) }),
  explain: async () => ({ main: (await loadDaemons()).explain }),
  doctor: async () => ({ main: (await loadDaemons()).doctor }),
  'probe-send': async () => ({ main: (await loadDaemons()).probeSend }),
  'kubectl-weft': async () => ({ main: (await loadDaemons()).kubectlWeft }),
};

// A CNI plugin is done when its verb returns: exiting at once skips Node's teardown (see docs/PERFORMANCE.md).
// stdout and stderr are pipes or files, which Node writes synchronously on Linux, so nothing is lost.
const ONE_SHOT = new Set(['weft-bridge', 'weft-host-local', 'weft-vxlan']);

function usage(): string {
  return `usage: weft <command> [args]   (or call it through a link named after the command)\ncommands: ${Object.keys(COMMANDS).join(', ')}\n`;
}

async function runCommand(name: string, argv: string[]): Promise<number> {
  if (ONE_SHOT.has(name)) spawnWithoutChildProcess();
  const code = await (await COMMANDS[name]!()).main(argv);
  if (ONE_SHOT.has(name)) process.exit(code);
  return code;
}

async function start(): Promise<number> {
  const invoked = basename(process.argv0);
  if (COMMANDS[invoked]) return runCommand(invoked, process.argv.slice(2));
  // Called as `weft` (or `node bin/weft.ts`): argv[2] names the command. In a single executable argv[1] repeats argv[0].
  const args = process.argv.slice(2);
  const command = args[0];
  if (command && COMMANDS[command]) return runCommand(command, args.slice(1));
  process.stderr.write(usage());
  return command === '--help' || command === 'help' ? 0 : 2;
}

start().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`weft: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
