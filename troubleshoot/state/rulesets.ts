import { run } from '../../lib/exec.ts';
import { countRules, parseRestoreText, type IptablesRuleset } from '../netfilter/iptables-ruleset.ts';
import { countNftRules, parseNftRuleset, type NftTable } from '../netfilter/nftables-ruleset.ts';

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

export async function readRulesets(): Promise<Rulesets> {
  const problems: string[] = [];
  const [nftSave, legacySave, nftJson, nftText] = await Promise.all([
    save('iptables-nft-save', problems),
    save('iptables-legacy-save', problems),
    run('nft', ['-j', 'list', 'ruleset']).catch((error: Error) => ({ code: 127, stdout: '', stderr: error.message })),
    run('nft', ['-a', 'list', 'ruleset']).catch((error: Error) => ({ code: 127, stdout: '', stderr: error.message })),
  ]);
  if (nftJson.code !== 0) problems.push(`cannot read the nftables ruleset: ${nftJson.stderr.trim() || `exit ${nftJson.code}`}`);
  const iptablesNft = parseRestoreText(nftSave);
  return {
    iptablesNft,
    iptablesLegacy: parseRestoreText(legacySave),
    nftables: nftJson.code === 0 ? parseNftRuleset(nftJson.stdout, nftText.stdout, iptablesNftTables(iptablesNft)) : [],
    problems,
  };
}

export function ruleCounts(rulesets: Rulesets): { nft: number; legacy: number; nftables: number } {
  return { nft: countRules(rulesets.iptablesNft), legacy: countRules(rulesets.iptablesLegacy), nftables: countNftRules(rulesets.nftables) };
}
