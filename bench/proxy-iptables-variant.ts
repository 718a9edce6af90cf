import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IptablesVariant } from '../proxy/iptables/kernel.ts';

/**
 * Runs `body` with `iptables`, `iptables-save` and `iptables-restore` meaning the given variant for every
 * program the bench starts: proxies, like a node's, use whichever variant those names are (Debian: nft).
 * For legacy a directory first on PATH makes them the legacy multi-call binary, as update-alternatives
 * would on a node; it is removed afterwards.
 */
export async function withIptablesVariant<T>(variant: IptablesVariant, body: () => Promise<T>): Promise<T> {
  if (variant === 'nft') return body();
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
