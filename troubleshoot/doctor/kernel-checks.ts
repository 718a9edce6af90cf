import { countRules, describeRules } from '../netfilter/iptables-ruleset.ts';
import { countNftRules } from '../netfilter/nftables-ruleset.ts';
import { rpFilterMode } from '../path/routing.ts';
import { sysctl, sysctlName, type KernelState } from '../state/kernel-state.ts';
import type { NodeState } from '../state/node-state.ts';
import { check, type CheckResult } from './check.ts';

// Checks of the kernel's own settings: forwarding, bridge netfilter, reverse-path filtering on the
// overlay, the conntrack table's headroom, and the two iptables backends never both holding rules.

const CONNTRACK_WARN = 0.9;

/** The devices weft forwards between: its bridges, its VXLAN device and the VXLAN device's uplink. */
function weftDevices(kernel: KernelState): string[] {
  const vxlan = kernel.links.filter((l) => l.kind === 'vxlan' && l.name.startsWith('weft.'));
  const bridges = kernel.links.filter((l) => l.kind === 'bridge' && kernel.links.some((p) => p.master === l.name));
  return [...new Set([...bridges.map((b) => b.name), ...vxlan.map((v) => v.name), ...vxlan.flatMap((v) => (v.vxlan?.dev ? [v.vxlan.dev] : []))])];
}

export function checkForwarding(kernel: KernelState): CheckResult {
  const global = sysctl(kernel, 'net/ipv4/ip_forward');
  const off = weftDevices(kernel).filter((dev) => sysctl(kernel, `net/ipv4/conf/${dev}/forwarding`) === '0');
  const evidence = [`net.ipv4.ip_forward=${global ?? '?'}`, ...weftDevices(kernel).map((dev) => `${sysctlName(`net/ipv4/conf/${dev}/forwarding`)}=${sysctl(kernel, `net/ipv4/conf/${dev}/forwarding`) ?? '?'}`)];
  if (global !== '1') return check('forwarding', 'error', 'IPv4 forwarding is off: pods cannot reach other nodes or Services on them', { evidence, fix: 'sysctl -w net.ipv4.ip_forward=1 (and keep it in /etc/sysctl.d)' });
  if (off.length > 0) return check('forwarding', 'error', `forwarding is off on ${off.join(', ')}`, { evidence, fix: off.map((d) => `sysctl -w ${sysctlName(`net/ipv4/conf/${d}/forwarding`)}=1`).join('; ') });
  return check('forwarding', 'ok', 'IPv4 forwarding is on', { evidence });
}

export function checkBridgeNetfilter(kernel: KernelState): CheckResult {
  const value = sysctl(kernel, 'net/bridge/bridge-nf-call-iptables');
  const evidence = [`net.bridge.bridge-nf-call-iptables=${value ?? 'absent (br_netfilter not loaded)'}`];
  if (!kernel.links.some((l) => l.kind === 'bridge')) return check('bridge-netfilter', 'skip', 'no bridge on this node', { evidence });
  if (value !== '1') {
    return check('bridge-netfilter', 'error', 'bridged pod traffic bypasses iptables: a pod reaching a Service whose endpoint is on the same node gets untranslated replies', {
      evidence,
      fix: 'modprobe br_netfilter && sysctl -w net.bridge.bridge-nf-call-iptables=1',
    });
  }
  return check('bridge-netfilter', 'ok', 'bridged pod traffic passes iptables', { evidence });
}

export function checkReversePath(kernel: KernelState): CheckResult {
  const vxlan = kernel.links.find((l) => l.kind === 'vxlan' && l.name.startsWith('weft.'));
  if (!vxlan) return check('rp-filter', 'skip', 'no weft VXLAN device');
  const { mode, key } = rpFilterMode(kernel, vxlan.name);
  const evidence = [`${sysctlName(key)}=${mode} (the larger of net.ipv4.conf.all.rp_filter and ${sysctlName(`net/ipv4/conf/${vxlan.name}/rp_filter`)} applies)`];
  if (mode === 1) {
    return check('rp-filter', 'warn', `strict reverse-path filtering on ${vxlan.name}: packets arriving through the overlay from sources not routed back through ${vxlan.name} are dropped`, {
      evidence,
      fix: `sysctl -w ${sysctlName(`net/ipv4/conf/${vxlan.name}/rp_filter`)}=2${key.includes('/all/') ? ' net.ipv4.conf.all.rp_filter=2' : ''} (loose)`,
    });
  }
  return check('rp-filter', 'ok', `reverse-path filtering on ${vxlan.name} is ${mode === 2 ? 'loose' : 'off'}`, { evidence });
}

export function checkConntrack(kernel: KernelState): CheckResult {
  const count = Number(sysctl(kernel, 'net/netfilter/nf_conntrack_count'));
  const max = Number(sysctl(kernel, 'net/netfilter/nf_conntrack_max'));
  if (!Number.isFinite(count) || !Number.isFinite(max) || max <= 0) return check('conntrack', 'skip', 'conntrack counters not readable (nf_conntrack not loaded)');
  const evidence = [`net.netfilter.nf_conntrack_count=${count}`, `net.netfilter.nf_conntrack_max=${max}`];
  const fix = `sysctl -w net.netfilter.nf_conntrack_max=${max * 2}, and look for what opens so many connections (conntrack -L)`;
  if (count >= max) return check('conntrack', 'error', 'the conntrack table is full: new connections are dropped', { evidence, fix });
  if (count >= max * CONNTRACK_WARN) return check('conntrack', 'warn', `the conntrack table is ${Math.round((100 * count) / max)}% full`, { evidence, fix });
  return check('conntrack', 'ok', `${count} of ${max} conntrack entries in use`, { evidence });
}

export function checkIptablesBackends(state: NodeState): CheckResult {
  const { rulesets } = state;
  const legacy = countRules(rulesets.iptablesLegacy);
  const nft = countRules(rulesets.iptablesNft);
  const native = countNftRules(rulesets.nftables);
  const evidence = [`iptables-nft: ${nft} rule(s)`, `iptables-legacy: ${legacy} rule(s)${legacy > 0 ? ` in ${describeRules(rulesets.iptablesLegacy)}` : ''}`, `nftables (native tables): ${native} rule(s)`, ...rulesets.problems];
  if (legacy > 0 && nft + native > 0) {
    return check('iptables-backends', 'error', 'iptables-legacy and nf_tables both hold rules: both run on every packet, and `iptables` shows only the nft ones', {
      evidence,
      fix: 'inspect with iptables-legacy-save; remove the legacy rules (iptables-legacy -t TABLE -F CHAIN) and stop whatever writes them',
    });
  }
  return check('iptables-backends', 'ok', legacy > 0 ? 'only iptables-legacy holds rules' : 'only nf_tables holds rules', { evidence });
}
