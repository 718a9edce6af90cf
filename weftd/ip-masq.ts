import { run, runChecked } from '../lib/exec.ts';
import { formatIpv4Cidr, type Ipv4Cidr } from '../lib/ip.ts';

// --ip-masq: pods keep their addresses inside the cluster network and are masqueraded only when
// leaving it (flannel's four rules, in a chain of our own). The rules stay on shutdown: a restarting
// weftd must not cut pods' outside connections, and the next start rewrites the chain.

export const MASQ_CHAIN = 'WEFT-POSTRTG';
const JUMP = ['POSTROUTING', '-m', 'comment', '--comment', 'weft: cluster network masquerade', '-j', MASQ_CHAIN];

/** iptables-restore --noflush input: declaring the chain flushes it, so reapplying replaces the rules. */
export function renderMasqueradeRules(network: Ipv4Cidr, subnet: Ipv4Cidr): string {
  const net = formatIpv4Cidr(network);
  return [
    '*nat',
    `:${MASQ_CHAIN} - [0:0]`,
    `-A ${MASQ_CHAIN} -s ${net} -d ${net} -m comment --comment "weft: pod to pod, keep source" -j RETURN`,
    `-A ${MASQ_CHAIN} -s ${net} ! -d 224.0.0.0/4 -m comment --comment "weft: pod to outside" -j MASQUERADE --random-fully`,
    `-A ${MASQ_CHAIN} ! -s ${net} -d ${formatIpv4Cidr(subnet)} -m comment --comment "weft: outside to local pods, keep source" -j RETURN`,
    `-A ${MASQ_CHAIN} ! -s ${net} -d ${net} -m comment --comment "weft: node to remote pods" -j MASQUERADE --random-fully`,
    'COMMIT',
    '',
  ].join('\n');
}

export async function ensureMasquerade(network: Ipv4Cidr, subnet: Ipv4Cidr): Promise<void> {
  await runChecked('iptables-restore', ['--noflush', '-w'], { input: renderMasqueradeRules(network, subnet) });
  const present = await run('iptables', ['-w', '-t', 'nat', '-C', ...JUMP]);
  if (present.code !== 0) await runChecked('iptables', ['-w', '-t', 'nat', '-A', ...JUMP]);
}
