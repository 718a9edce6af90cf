import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { directoryExists, ensureDirectory, readBoundedFile } from '../../lib/files.ts';

// Per attachment, the delegate config ADD used, so DEL and CHECK hand the delegate the same config
// even after the subnet file changed or is gone. One file per attachment, 0600 in a 0700 directory.

export interface StoredDelegate {
  containerId: string;
  ifname: string;
  conf: Record<string, unknown>;
}

/**
 * File name for an attachment. Both parts were validated by the request parser (no "/", no
 * whitespace); ':' is in neither alphabet, so no two attachments share a name.
 */
export function delegateFileName(containerId: string, ifname: string): string {
  return `${containerId}:${ifname}.json`;
}

/** What a DEL or CHECK finds for an attachment; an unreadable file is reported, not thrown. */
export type LoadedDelegate = { state: 'stored'; stored: StoredDelegate } | { state: 'absent' } | { state: 'unreadable'; reason: string };

function isStoredDelegate(value: unknown): value is StoredDelegate {
  const entry = value as Partial<StoredDelegate> | null;
  return typeof entry === 'object' && entry !== null && typeof entry.containerId === 'string' && typeof entry.ifname === 'string' && typeof entry.conf === 'object' && entry.conf !== null;
}

/** A stored config is the network config with the subnet filled in: far below this. */
const MAX_STORED_BYTES = 1024 * 1024;

function readStored(dataDir: string, name: string): string {
  return readBoundedFile(join(dataDir, name), { maxBytes: MAX_STORED_BYTES });
}

export function saveDelegate(dataDir: string, stored: StoredDelegate): void {
  ensureDirectory(dataDir);
  writeFileSync(join(dataDir, delegateFileName(stored.containerId, stored.ifname)), JSON.stringify(stored), { mode: 0o600 });
}

export function loadDelegate(dataDir: string, containerId: string, ifname: string): LoadedDelegate {
  let text: string;
  try {
    text = readStored(dataDir, delegateFileName(containerId, ifname));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absent' };
    return { state: 'unreadable', reason: (error as Error).message };
  }
  try {
    const entry: unknown = JSON.parse(text);
    return isStoredDelegate(entry) ? { state: 'stored', stored: entry } : { state: 'unreadable', reason: 'not a stored delegate config' };
  } catch (error) {
    return { state: 'unreadable', reason: (error as Error).message };
  }
}

export function removeDelegate(dataDir: string, containerId: string, ifname: string): void {
  rmSync(join(dataDir, delegateFileName(containerId, ifname)), { force: true });
}

/** Every stored attachment; unreadable files are skipped (GC must go on). */
export function listDelegates(dataDir: string): StoredDelegate[] {
  let names: string[];
  try {
    names = directoryExists(dataDir) ? readdirSync(dataDir) : [];
  } catch {
    return [];
  }
  const stored: StoredDelegate[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    try {
      const entry: unknown = JSON.parse(readStored(dataDir, name));
      if (isStoredDelegate(entry)) stored.push(entry);
    } catch {
      // a half-written or foreign file: not ours to judge
    }
  }
  return stored;
}
