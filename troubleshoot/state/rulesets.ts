import { run } from '../../lib/exec.ts';
import { parseRestoreText, type IptablesRuleset } from '../netfilter/iptables-ruleset.ts';
import { parseNftRuleset, type NftTable } from '../netfilter/nftables-ruleset.ts';

// Both iptables backends and the native nftables tables, read from the kernel with the tools that
// wrote them. A backend whose tool is missing reads as empty, noted. iptables-nft's tables appear in
// the nft listing too; they are read once, through iptables-nft-save, which prints their targets.

export interface Rulesets {
  readonly iptablesNft: IptablesRuleset;
  readonly iptablesLegacy: IptablesRuleset;
  /** Native nftables tables (iptables-nft's own left out). */
  readonly nftables: readonly NftTable[];
  /** What could not be read. */
  readonly problems: readonly string[];
}

async function save(program: string, problems: string[]): Promise<string> {
  const result = await run(program, []).catch((error: Error) => ({ code: 127, stdout: '', stderr: error.message }));
  if (result.code !== 0) {
    problems.push(`cannot read ${program}: ${result.stderr.trim() || `exit ${result.code}`}`);
    return '';
  }
  return result.stdout;
}

/** Tables iptables-nft manages, as "ip nat": they appear in its save output. */
function iptablesNftTables(ruleset: IptablesRuleset): Set<string> {
  return new Set([...ruleset.keys()].map((table) => `ip ${table}`));
}

/** What the four listings print, parsed: iptables-nft-save, iptables-legacy-save, `nft -j` and `nft -a list ruleset`. */
export function parseRulesets(texts: { nftSave: string; legacySave: string; nftJson: string; nftText: string }, problems: readonly string[] = []): Rulesets {
  const iptablesNft = parseRestoreText(texts.nftSave);
  return {
    iptablesNft,
    iptablesLegacy: parseRestoreText(texts.legacySave),
    nftables: parseNftRuleset(texts.nftJson, texts.nftText, iptablesNftTables(iptablesNft)),
    problems,
  };
}

export async function readRulesets(): Promise<Rulesets> {
  const problems: string[] = [];
  const [nftSave, legacySave, nftJson, nftText] = await Promise.all([
    save('iptables-nft-save', problems),
    save('iptables-legacy-save', problems),
    run('nft', ['-j', 'list', 'ruleset']).catch((error: Error) => ({ code: 127, stdout: '', stderr: error.message })),
    run('nft', ['-a', 'list', 'ruleset']).catch((error: Error) => ({ code: 127, stdout: '', stderr: error.message })),
  ]);
  if (nftJson.code !== 0) problems.push(`cannot read the nftables ruleset: ${nftJson.stderr.trim() || `exit ${nftJson.code}`}`);
  return parseRulesets({ nftSave, legacySave, nftJson: nftJson.code === 0 ? nftJson.stdout : '', nftText: nftText.stdout }, problems);
}

