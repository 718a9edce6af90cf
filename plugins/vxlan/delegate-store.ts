import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Per attachment, the delegate config ADD used, so DEL and CHECK hand the delegate the same config
// even after the subnet file changed or is gone. One file per attachment, 0600 in a 0700 directory.

export interface StoredDelegate {
  containerId: string;
  ifname: string;
  conf: Record<string, unknown>;
}

/** File name for an attachment. Both parts were validated by the request parser (no "/", no whitespace). */
function fileName(containerId: string, ifname: string): string {
  return `${containerId}--${ifname}.json`;
}

export function saveDelegate(dataDir: string, stored: StoredDelegate): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dataDir, fileName(stored.containerId, stored.ifname)), JSON.stringify(stored), { mode: 0o600 });
}

export function loadDelegate(dataDir: string, containerId: string, ifname: string): StoredDelegate | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, fileName(containerId, ifname)), 'utf8')) as StoredDelegate;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read stored delegate config of container "${containerId}": ${(error as Error).message}`, { cause: error });
  }
}

export function removeDelegate(dataDir: string, containerId: string, ifname: string): void {
  rmSync(join(dataDir, fileName(containerId, ifname)), { force: true });
}

/** Every stored attachment; unreadable files are skipped (GC must go on). */
export function listDelegates(dataDir: string): StoredDelegate[] {
  let names: string[];
  try {
    names = readdirSync(dataDir);
  } catch {
    return [];
  }
  const stored: StoredDelegate[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    try {
      const entry = JSON.parse(readFileSync(join(dataDir, name), 'utf8')) as StoredDelegate;
      if (typeof entry.containerId === 'string' && typeof entry.ifname === 'string') stored.push(entry);
    } catch {
      // a half-written or foreign file: not ours to judge
    }
  }
  return stored;
}
