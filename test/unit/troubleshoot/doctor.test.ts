import { describe, expect, it } from 'vitest';
import { exitCode, type CheckResult } from '../../../troubleshoot/doctor/check.ts';
import { proxyHealthAddress } from '../../../troubleshoot/doctor/proxy-check.ts';
import { runChecks } from '../../../troubleshoot/doctor/run-checks.ts';
import { parseRestoreText } from '../../../troubleshoot/netfilter/iptables-ruleset.ts';
import type { KernelState } from '../../../troubleshoot/state/kernel-state.ts';
import type { NodeState } from '../../../troubleshoot/state/node-state.ts';
import { labNode } from './lab-fixture.ts';

// The doctor's checks on a real node's state (lab-fixture.ts), healthy and with one thing changed.

const NOW = Date.parse('2026-01-01T00:00:10Z');
const HEALTHY_PROXY = { address: '127.0.0.1:10256', status: 200, body: JSON.stringify({ lastUpdated: '2026-01-01T00:00:07Z', currentTime: '2026-01-01T00:00:10Z', healthy: true }) };
const node1 = labNode(1);

function run(state: NodeState, proxy = HEALTHY_PROXY): CheckResult[] {
  return runChecks(state, proxy, NOW);
}

function status(results: CheckResult[], id: string): CheckResult {
  return results.find((r) => r.id === id) as CheckResult;
}

function withKernel(state: NodeState, change: (k: KernelState) => Partial<KernelState>): NodeState {
  return { ...state, kernel: { ...state.kernel, ...change(state.kernel) } };
}

describe('weft doctor on a healthy node', () => {
  it('every check but the empty Service is ok, and the proxy synced 3 s ago', () => {
    const results = run(node1);
    expect(results.filter((r) => r.status !== 'ok' && r.status !== 'skip').map((r) => [r.id, r.status])).toEqual([['service-endpoints', 'warn']]);
    expect(status(results, 'proxy').summary).toBe('weft-proxy is healthy (iptables rules), last sync 3 s ago');
    expect(status(results, 'service-endpoints').evidence).toEqual(['no endpoints: default/empty:http (10.96.0.11:80)']);
    expect(exitCode(results)).toBe(1);
  });
});

describe('weft doctor names what is wrong, with the fix', () => {
  it('forwarding off is an error (exit 2)', () => {
    const results = run(withKernel(node1, (k) => ({ sysctls: new Map([...k.sysctls, ['net/ipv4/ip_forward', '0']]) })));
    expect(status(results, 'forwarding')).toMatchObject({ status: 'error', fix: 'sysctl -w net.ipv4.ip_forward=1 (and keep it in /etc/sysctl.d)' });
    expect(exitCode(results)).toBe(2);
  });

  it('a VXLAN device with the wrong MTU', () => {
    const results = run(withKernel(node1, (k) => ({ links: k.links.map((l) => (l.name === 'weft.1' ? { ...l, mtu: 1400 } : l)) })));
    expect(status(results, 'vxlan-device')).toMatchObject({ status: 'error', summary: 'weft.1: MTU 1400, wanted 1450 (eth0 MTU 1500 - 50)', fix: 'ip link set weft.1 mtu 1450 (or restart weftd)' });
    // The file still says what the device should have: the device alone is wrong.
    expect(status(results, 'subnet-file').status).toBe('ok');
  });

  it('a peer without its FDB entry or neighbour, and stale entries for nodes that hold no lease', () => {
    const noFdb = run(withKernel(node1, (k) => ({ fdb: k.fdb.filter((f) => f.dev !== 'weft.1') })));
    expect(status(noFdb, 'peers').status).toBe('error');
    expect(status(noFdb, 'peers').evidence.some((e) => /FDB entry [0-9a-f:]{17} -> [\d.]+ missing$/.test(e))).toBe(true);
    const noNeighbour = run(withKernel(node1, (k) => ({ neighbours: k.neighbours.filter((n) => n.dev !== 'weft.1') })));
    expect(status(noNeighbour, 'peers').evidence.some((e) => /neighbour [\d.]+ missing$/.test(e))).toBe(true);
    const stale = run(withKernel(node1, (k) => ({ fdb: [...k.fdb, { mac: '02:00:00:00:00:99', dev: 'weft.1', dst: '172.30.91.99', state: 'permanent' }] })));
    expect(status(stale, 'peers')).toMatchObject({ status: 'warn', fix: 'bridge fdb del 02:00:00:00:00:99 dev weft.1 dst 172.30.91.99 self' });
  });

  it('strict reverse-path filtering on the VXLAN device is a warning', () => {
    const results = run(withKernel(node1, (k) => ({ sysctls: new Map([...k.sysctls, ['net/ipv4/conf/weft.1/rp_filter', '1']]) })));
    expect(status(results, 'rp-filter')).toMatchObject({ status: 'warn', fix: 'sysctl -w net.ipv4.conf.weft/1.rp_filter=2 (loose)' });
  });

  it('rules in both iptables backends', () => {
    const legacy = parseRestoreText('*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j DROP\nCOMMIT\n');
    const results = run({ ...node1, rulesets: { ...node1.rulesets, iptablesLegacy: legacy } });
    expect(status(results, 'iptables-backends').status).toBe('error');
    expect(status(results, 'iptables-backends').evidence).toContain('iptables-legacy: 1 rule(s) in filter FORWARD (1)');
  });

  it('an allocation whose pod is gone, and a nearly full pool', () => {
    const leaked = run(withKernel(node1, (k) => ({ links: k.links.filter((l) => !l.alias?.includes('id=wx-n1p2 ')) })));
    expect(status(leaked, 'ipam-leaks').status).toBe('warn');
    expect(status(leaked, 'ipam-leaks').evidence.some((e) => e.startsWith('leaked: ') && e.includes('container wx-n1p2, eth0'))).toBe(true);
    const entries = Array.from({ length: 240 }, (_, i) => ({ ip: { family: 4 as const, value: BigInt(0x0af40000 + i) }, owner: { containerId: `c${i}`, ifname: 'eth0' } }));
    const full = run({ ...node1, weft: { ...node1.weft, allocations: [{ store: { dataDir: '/x', network: 'n' }, entries }] } });
    expect(status(full, 'ipam-pool')).toMatchObject({ status: 'warn', summary: 'the pool is 95% used' });
  });

  it('a CNI config naming a plugin that is not installed', () => {
    const cni = { ...node1.weft.cni, plugins: [{ name: 'weft-vxlan', present: true, executable: true }, { name: 'weft-bridge', present: false, executable: false }] };
    expect(status(run({ ...node1, weft: { ...node1.weft, cni } }), 'cni-config')).toMatchObject({ status: 'error', summary: 'weft-bridge is missing in /opt/cni/bin' });
  });

  it('proxy rules nobody maintains, an unhealthy proxy, and a chain no rule reaches', () => {
    expect(status(run(node1, { address: '127.0.0.1:10256', error: 'connect ECONNREFUSED' } as never), 'proxy').status).toBe('error');
    const stale = { ...HEALTHY_PROXY, status: 503, body: JSON.stringify({ lastUpdated: '2026-01-01T00:00:00Z', currentTime: '2026-01-01T00:00:10Z', healthy: false }) };
    expect(status(run(node1, stale), 'proxy').summary).toBe('weft-proxy is unhealthy: last sync 10 s ago');
    const nat = new Map(node1.rulesets.iptablesNft.get('nat'));
    nat.set('WEFT-SERVICES', { rules: (nat.get('WEFT-SERVICES')?.rules ?? []).filter((r) => !r.line.includes('-d 10.96.0.10/32')) });
    const results = run({ ...node1, rulesets: { ...node1.rulesets, iptablesNft: new Map([...node1.rulesets.iptablesNft, ['nat', nat]]) } });
    expect(status(results, 'proxy-rules').status).toBe('error');
    expect(status(results, 'proxy-rules').evidence).toEqual([expect.stringMatching(/^not dispatched: iptables-nft nat WEFT-SVC-[A-Z2-7]{16} handles 10\.96\.0\.10:80, but no rule sends 10\.96\.0\.10:80 there$/)]);
  });

  it('late lease renewals', () => {
    const leases = { ...node1.weft.leases!, renewal: { ttl: 70_000, grantedTtl: 86_400, renewIntervalMs: 3_600_000 } };
    expect(status(run({ ...node1, weft: { ...node1.weft, leases } }), 'lease-renewal')).toMatchObject({ status: 'warn', summary: 'renewals are late: the lease expires in 70000 s' });
  });

  it('weft-proxy\'s health address comes from its flags', () => {
    expect(proxyHealthAddress(['--healthz-bind-address=0.0.0.0:10300'])).toBe('127.0.0.1:10300');
    expect(proxyHealthAddress(['--healthz-bind-address', '10.0.0.5:10256'])).toBe('10.0.0.5:10256');
    expect(proxyHealthAddress(undefined)).toBe('127.0.0.1:10256');
  });
});
