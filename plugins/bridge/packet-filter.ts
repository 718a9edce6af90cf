import { run, runChecked } from '../../lib/exec.ts';
import { withNamespaceLock } from '../../lib/namespace-lock.ts';
import { ErrorCode, toCniError } from '../cni/errors.ts';
import type { Attachment } from '../cni/types.ts';
import type { Family } from '../../lib/ip.ts';
import { MACSPOOF_TABLE, renderMacspoofRemoval } from './macspoof.ts';
import { renderMasqRemoval } from './masq.ts';

// The packet filter side: iptables-restore for masquerade (one atomic transaction per family) and
// nft for macspoofchk. Everything here spawns; the rule text comes from masq.ts and macspoof.ts.

const RESTORE: Record<Family, string> = { 4: 'iptables-restore', 6: 'ip6tables-restore' };
const SAVE: Record<Family, string> = { 4: 'iptables-save', 6: 'ip6tables-save' };

async function filterStep(action: string, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    throw toCniError(error, ErrorCode.PacketFilterFailure, action);
  }
}

export function applyMasq(rules: ReadonlyMap<Family, string>): Promise<void> {
  return filterStep('add masquerade rules', async () => {
    for (const [family, text] of rules) await runChecked(RESTORE[family], ['--noflush', '-w'], { input: text });
  });
}

/** Removes the tagged masquerade rules `select` picks, in both families. */
export function removeMasq(select: (network: string, attachment: Attachment) => boolean): Promise<void> {
  return filterStep('remove masquerade rules', async () => {
    for (const family of [4, 6] as const) {
      const saved = await runChecked(SAVE[family], ['-t', 'nat']);
      const text = renderMasqRemoval(saved.stdout, select);
      if (text) await runChecked(RESTORE[family], ['--noflush', '-w'], { input: text });
    }
  });
}

const MACSPOOF_LOCK = 'bridge-macspoofchk';

export function applyMacspoof(text: string): Promise<void> {
  return filterStep('add the macspoofchk rule', () =>
    withNamespaceLock(MACSPOOF_LOCK, async () => {
      await runChecked('nft', ['-f', '-'], { input: text });
    }),
  );
}

/** Removes the macspoofchk elements of the host veths `select` picks (the table with the last); no table means nothing to remove. */
export function removeMacspoof(select: (hostVeth: string) => boolean): Promise<void> {
  return filterStep('remove macspoofchk entries', () =>
    withNamespaceLock(MACSPOOF_LOCK, async () => {
      const listing = await run('nft', ['-j', 'list', 'table', 'bridge', MACSPOOF_TABLE]);
      if (listing.code !== 0) return;
      const text = renderMacspoofRemoval(listing.stdout, select);
      if (text) await runChecked('nft', ['-f', '-'], { input: text });
    }),
  );
}
