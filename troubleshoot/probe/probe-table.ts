import type { Hook } from '../netfilter/flow.ts';
import type { Protocol } from '../model/target.ts';

// The temporary nftables table --probe installs: chains at the very start and the very end of every
// IPv4 hook. The first chain of PREROUTING and OUTPUT sets `meta nftrace` on exactly the probe packet
// (its source address and source port are the prober's own), so the kernel reports it in every chain
// of every table it passes; the empty chains show where it entered and left each hook, with its
// addresses and devices at that moment. Priorities -400 and 400 put them before and after all others.

export interface ProbeMatch {
  readonly src: string;
  readonly dst: string;
  readonly sport: number;
  readonly dport?: number;
  readonly proto: Protocol;
}

const PROBE_HOOKS: readonly { readonly hook: Hook; readonly short: string }[] = [
  { hook: 'prerouting', short: 'pre' },
  { hook: 'input', short: 'in' },
  { hook: 'forward', short: 'fwd' },
  { hook: 'output', short: 'out' },
  { hook: 'postrouting', short: 'post' },
];

/** A table name per prober process, so two probes never touch each other's table. */
export function probeTableName(pid: number): string {
  return `weft-probe-${pid}`;
}

export function renderProbeTable(table: string, match: ProbeMatch): string {
  // Only the first packet: a TCP connection's SYN, not the handshake's ACK nor the close that follow.
  const first = match.proto === 'tcp' ? ' tcp flags & (syn | ack) == syn' : '';
  const select = `ip saddr ${match.src} ip daddr ${match.dst} ${match.proto} sport ${match.sport}${match.dport !== undefined ? ` ${match.proto} dport ${match.dport}` : ''}${first}`;
  const lines = [`add table ip ${table}`];
  for (const { hook, short } of PROBE_HOOKS) {
    lines.push(`add chain ip ${table} ${short}-first { type filter hook ${hook} priority -400; policy accept; }`);
    lines.push(`add chain ip ${table} ${short}-last { type filter hook ${hook} priority 400; policy accept; }`);
    if (hook === 'prerouting' || hook === 'output') lines.push(`add rule ip ${table} ${short}-first ${select} meta nftrace set 1`);
  }
  return `${lines.join('\n')}\n`;
}

/** Which hook, and which end of it, a probe chain stands for. */
export function probeChainPlace(chain: string): { hook: Hook; end: 'first' | 'last' } | undefined {
  const [short, end] = chain.split('-');
  const hook = PROBE_HOOKS.find((h) => h.short === short)?.hook;
  return hook && (end === 'first' || end === 'last') ? { hook, end } : undefined;
}
