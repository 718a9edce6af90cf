import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';

// Which weft daemons serve this network namespace, and with which flags: found under /proc as the
// processes whose network namespace is this one, so the checks use weftd's and weft-proxy's own
// settings (subnet file, etcd endpoints, health address) instead of asking the operator to repeat them.

export interface DaemonProcess {
  readonly pid: number;
  /** The arguments after the command name. */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The weft command a command line runs, and its arguments: `weftd ...` through its link, `weft weftd ...`,
 * or `node .../bin/weft.ts weftd ...` from the sources.
 */
export function weftCommandOf(argv: readonly string[]): { command: string; args: readonly string[] } | undefined {
  const [first = '', second = '', third = ''] = argv;
  const name = basename(first);
  if (name === 'weftd' || name === 'weft-proxy') return { command: name, args: argv.slice(1) };
  if (name === 'weft' && second !== '') return { command: second, args: argv.slice(2) };
  if (basename(second) === 'weft.ts' && third !== '') return { command: third, args: argv.slice(3) };
  return undefined;
}

function readNulList(path: string): string[] {
  return readFileSync(path, 'utf8').split('\0').filter((part) => part !== '');
}

/** Processes running weft command `command` in this process's network namespace (lowest pid first). */
export function findDaemons(command: 'weftd' | 'weft-proxy'): DaemonProcess[] {
  const own = readlinkSync('/proc/self/ns/net');
  const found: DaemonProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) !== own) continue;
      const parsed = weftCommandOf(readNulList(`/proc/${entry}/cmdline`));
      if (parsed?.command !== command) continue;
      const env = Object.fromEntries(readNulList(`/proc/${entry}/environ`).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      found.push({ pid: Number(entry), args: parsed.args, env });
    } catch {
      // a process that exited meanwhile, or one we may not inspect
    }
  }
  return found.sort((a, b) => a.pid - b.pid);
}
