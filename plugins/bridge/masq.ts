import type { Attachment, IPConfig } from '../cni/types.ts';
import { familyBits, formatCidr, formatIp, networkAddress, parseCidr, type Family } from '../../lib/ip.ts';
import { attachmentTag, masqChainName, parseAttachmentTag } from './names.ts';

// Masquerade for traffic leaving the pod's subnet, as iptables-restore text (one atomic transaction per
// family). Each pod gets its own chain, jumped to from POSTROUTING by source address; every rule carries
// the attachment's tag so DEL and GC find them from `iptables-save` without knowing the pod's address.

const MULTICAST: Record<Family, string> = { 4: '224.0.0.0/4', 6: 'ff00::/8' };

/** Rules for one pod, per family; families without an address are absent. */
export function renderMasqRules(attachment: Attachment, options: { network: string; ips: readonly IPConfig[] }): Map<Family, string> {
  const { network, ips } = options;
  const chain = masqChainName(network, attachment);
  const comment = `-m comment --comment "${attachmentTag(network, attachment)}"`;
  const byFamily = new Map<Family, string[]>();
  for (const ip of ips) {
    const cidr = parseCidr(ip.address);
    if (!cidr) continue;
    const family = cidr.ip.family;
    const lines = byFamily.get(family) ?? [];
    if (lines.length === 0) lines.push(`-A ${chain} ! -d ${MULTICAST[family]} ${comment} -j MASQUERADE`);
    // Traffic within the pod's subnet keeps its source; ACCEPT ends the chain before MASQUERADE.
    lines.unshift(`-A ${chain} -d ${formatCidr({ ip: networkAddress(cidr), prefix: cidr.prefix })} ${comment} -j ACCEPT`);
    lines.push(`-A POSTROUTING -s ${formatIp(cidr.ip)}/${familyBits(family)} ${comment} -j ${chain}`);
    byFamily.set(family, lines);
  }
  return new Map([...byFamily].map(([family, lines]) => [family, ['*nat', `:${chain} - [0:0]`, ...lines, 'COMMIT', ''].join('\n')]));
}

// iptables-save quotes a comment holding spaces: --comment "weft-bridge net=..." (ours always do).
const RULE = /^-A (\S+) (.*--comment "([^"]*)".*)$/;

/**
 * Deletes the tagged rules and chains that `select` picks, from an `iptables-save -t nat` listing;
 * empty when nothing matches.
 */
export function renderMasqRemoval(saved: string, select: (network: string, attachment: Attachment) => boolean): string {
  const jumps: string[] = [];
  const chains = new Set<string>();
  for (const line of saved.split('\n')) {
    const match = RULE.exec(line);
    const tag = match && parseAttachmentTag(match[3]!);
    if (!match || !tag || !select(tag.network, tag.attachment)) continue;
    if (match[1] === 'POSTROUTING') jumps.push(`-D POSTROUTING ${match[2]}`);
    else if (match[1]!.startsWith('WEFT-MASQ-')) chains.add(match[1]!);
  }
  if (jumps.length === 0 && chains.size === 0) return '';
  return ['*nat', ...jumps, ...[...chains].flatMap((c) => [`-F ${c}`, `-X ${c}`]), 'COMMIT', ''].join('\n');
}
