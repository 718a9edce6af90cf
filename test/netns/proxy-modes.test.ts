import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iptablesKernel } from '../../proxy/iptables/kernel.ts';
import { NetnsScope, type Netns } from '../support/netns.ts';
import { backendsIn, closeBackends, proxyIn, runWeftProxy } from './proxy-sync.ts';

// The two modes on one node: starting in one removes what the other left (as kube-proxy does), and
// `weft-proxy --cleanup` removes both; other software's rules and other weft components' chains stay.

const CONFIG = { hostname: 'node-1', clusterCidr: '10.180.0.0/16', masqueradeMark: 0x4000, nodePortAddresses: [] };
const WEB = [
  { kind: 'Service', metadata: { name: 'web', namespace: 'ns1' }, spec: { clusterIP: '172.30.0.41', ports: [{ name: 'http', port: 80 }] } },
  { kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'ns1', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['10.180.0.1'] }] },
];

describe('proxy modes on one node', () => {
  const scope = new NetnsScope();
  let node: Netns;
  const iptablesRules = async () => (await iptablesKernel({ netns: node.path }).save()).split('\n').filter((l) => l.includes('WEFT-'));
  const nftTables = async () => (await node.exec('nft', ['list', 'tables'])).split('\n').filter((l) => l.includes('weft')).join('\n');

  beforeAll(async () => {
    node = await scope.create('pmodes');
    // Another program's rule, and a chain of weftd's, must outlive every mode switch and the cleanup.
    await node.exec('iptables', ['-t', 'nat', '-A', 'PREROUTING', '-s', '10.9.9.9/32', '-j', 'RETURN']);
    await node.exec('iptables', ['-t', 'nat', '-N', 'WEFT-POSTRTG']);
    await node.exec('iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-j', 'WEFT-POSTRTG']);
  });
  afterAll(async () => {
    closeBackends();
    await scope.cleanup();
  });

  it('starting in nftables mode removes the iptables mode\'s chains and jumps, and starting in iptables mode removes the table', async () => {
    const iptables = proxyIn(node.path, { mode: 'iptables' });
    iptables.upsert(...WEB);
    await iptables.proxier.sync('full', CONFIG);
    expect((await iptablesRules()).some((l) => l.includes('WEFT-SERVICES'))).toBe(true);

    const nftables = proxyIn(node.path, { mode: 'nftables' });
    nftables.upsert(...WEB);
    const switched = await nftables.proxier.sync('full', CONFIG);
    expect(switched.cleanedUp).toEqual(['iptables']);
    expect(await iptablesRules()).toEqual([':WEFT-POSTRTG - [0:0]', '-A POSTROUTING -j WEFT-POSTRTG']);
    expect(await nftTables()).toBe('table ip weft');

    const back = proxyIn(node.path, { mode: 'iptables' });
    back.upsert(...WEB);
    expect((await back.proxier.sync('full', CONFIG)).cleanedUp).toEqual(['nftables']);
    expect(await nftTables()).toBe('');
    expect((await node.exec('iptables-save', ['-t', 'nat']))).toContain('-A PREROUTING -s 10.9.9.9/32 -j RETURN');
  });

  it('`weft-proxy --cleanup` removes both modes\' rules and leaves the rest', async () => {
    const { iptables, nftables } = backendsIn(node.path);
    await iptables.fullSync([], CONFIG);
    await nftables.fullSync([], CONFIG);
    const done = await runWeftProxy(node.path, ['--cleanup']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toMatch(/"msg":"cleanup done","removed":\["iptables","nftables"\]/);
    expect(await nftTables()).toBe('');
    expect(await iptablesRules()).toEqual([':WEFT-POSTRTG - [0:0]', '-A POSTROUTING -j WEFT-POSTRTG']);
    expect((await node.exec('iptables-save', ['-t', 'nat']))).toContain('-A PREROUTING -s 10.9.9.9/32 -j RETURN');
  });

  it('`weft-proxy --cleanup` with another option is refused, naming it, and removes nothing', async () => {
    await backendsIn(node.path).nftables.fullSync([], CONFIG);
    const refused = await runWeftProxy(node.path, ['--cleanup', '--proxy-mode=nftables']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('cannot use \\"--proxy-mode=nftables\\" with \\"--cleanup\\"');
    expect(await nftTables()).toBe('table ip weft');
  });
});
