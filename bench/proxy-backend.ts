import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IptablesBackend } from '../proxy/apply-iptables.ts';

/**
 * Runs `body` with `iptables`, `iptables-save` and `iptables-restore` meaning the given backend for every
 * program the bench starts: proxies, like a node's, use whichever backend those names are (Debian: nft).
 * For legacy a directory first on PATH makes them the legacy multi-call binary, as update-alternatives
 * would on a node; it is removed afterwards.
 */
export async function withBackend<T>(backend: IptablesBackend, body: () => Promise<T>): Promise<T> {
  if (backend === 'nft') return body();
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-legacy-'));
  const path = process.env.PATH;
  for (const name of ['iptables', 'iptables-save', 'iptables-restore']) symlinkSync('/usr/sbin/xtables-legacy-multi', join(dir, name));
  process.env.PATH = `${dir}:${path ?? ''}`;
  try {
    return await body();
  } finally {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  }
}
