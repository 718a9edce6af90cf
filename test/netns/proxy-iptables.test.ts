import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceChainName } from '../../proxy/core/service-names.ts';
import { iptablesKernel, RestoreError, type IptablesVariant } from '../../proxy/iptables/kernel.ts';
import { NetnsScope, type Netns } from '../support/netns.ts';
import { closeBackends, proxyIn } from './proxy-sync.ts';

// The iptables backend driven by the real proxier against iptables in a namespace, for both variants:
// idempotent jumps, partial syncs that delete stale chains, other software's rules left alone,
// failures naming the payload line.

const CONFIG = { hostname: 'node-1', clusterCidr: '10.180.0.0/16', masqueradeMark: 0x4000, nodePortAddresses: [] };

const service = (name: string, ip: string) => ({ kind: 'Service', metadata: { name, namespace: 'ns1' }, spec: { clusterIP: ip, ports: [{ name: 'http', port: 80 }] } });
const slice = (service: string, ips: string[]) => ({
  kind: 'EndpointSlice',
  metadata: { name: `${service}-1`, namespace: 'ns1', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080 }],
  endpoints: ips.map((ip) => ({ addresses: [ip] })),
});
const chainOf = (name: string) => serviceChainName('SVC', { key: `ns1/${name}:http`, protocol: 'tcp' });

function jumpCount(saved: string, chain: string, target: string): number {
  return saved.split('\n').filter((l) => l.startsWith(`-A ${chain} `) && l.endsWith(`-j ${target}`)).length;
}

describe.each(['nft', 'legacy'] as const)('the proxier syncing iptables-%s', (variant: IptablesVariant) => {
  const scope = new NetnsScope();
  let node: Netns;
  const save = () => iptablesKernel({ netns: node.path, variant }).save();

  beforeAll(async () => {
    node = await scope.create(`pipt-${variant}`);
    // Another program's rule in a built-in chain must survive every sync.
    await node.exec(`iptables-${variant}`, ['-t', 'nat', '-A', 'PREROUTING', '-s', '10.9.9.9/32', '-j', 'RETURN']);
  });
  afterAll(async () => {
    closeBackends();
    await scope.cleanup();
  });

  it('adds each jump from a built-in chain once, however often it syncs fully, and keeps foreign rules', async () => {
    const proxy = proxyIn(node.path, { mode: 'iptables', variant });
    proxy.upsert(service('web', '172.30.0.41'), slice('web', ['10.180.0.1']));
    await proxy.proxier.sync('full', CONFIG);
    await proxy.proxier.sync('full', CONFIG);
    const saved = await save();
    expect(jumpCount(saved, 'PREROUTING', 'WEFT-SERVICES')).toBe(1);
    expect(jumpCount(saved, 'FORWARD', 'WEFT-FORWARD')).toBe(1);
    expect(jumpCount(saved, 'OUTPUT', 'WEFT-SERVICES')).toBe(2); // one in nat, one in filter
    expect(saved).toContain('-A PREROUTING -s 10.9.9.9/32 -j RETURN');
  });

  it('syncs an endpoint change partially: only that Service\'s chain changes in the kernel', async () => {
    const proxy = proxyIn(node.path, { mode: 'iptables', variant });
    proxy.upsert(service('web', '172.30.0.41'), slice('web', ['10.180.0.1']), service('api', '172.30.0.42'), slice('api', ['10.180.0.2']));
    await proxy.proxier.sync('full', CONFIG);
    proxy.upsert(slice('web', ['10.180.0.3']));
    const outcome = await proxy.proxier.sync('partial', CONFIG);
    expect(outcome.kind).toBe('partial');
    expect(outcome.result.payload).not.toContain(chainOf('api'));
    const saved = await save();
    expect(saved).toContain(`-A ${chainOf('web')} -p tcp -j DNAT --to-destination 10.180.0.3:8080`);
    expect(saved).toContain(`-A ${chainOf('api')} -p tcp -j DNAT --to-destination 10.180.0.2:8080`);
  });

  it('deletes the chain of a removed Service in a partial sync and leaves the others in place', async () => {
    const proxy = proxyIn(node.path, { mode: 'iptables', variant });
    proxy.upsert(service('web', '172.30.0.41'), slice('web', ['10.180.0.1']), service('api', '172.30.0.42'), slice('api', ['10.180.0.2']));
    await proxy.proxier.sync('full', CONFIG);
    proxy.remove('Service', 'ns1', 'api');
    expect((await proxy.proxier.sync('partial', CONFIG)).kind).toBe('partial');
    const saved = await save();
    expect(saved).not.toContain(chainOf('api'));
    expect(saved).toContain(`-A ${chainOf('web')} `);
    expect(saved).not.toContain('172.30.0.42');
  });

  it('appends the new endpoint\'s hairpin rule in a partial sync, and the next full sync drops the former endpoints\' rules', async () => {
    const proxy = proxyIn(node.path, { mode: 'iptables', variant });
    proxy.upsert(service('web', '172.30.0.41'), slice('web', ['10.180.0.1', '10.180.0.2']));
    await proxy.proxier.sync('full', CONFIG);
    const hairpinRules = async () => (await save()).split('\n').filter((l) => l.startsWith('-A WEFT-HAIRPIN'));
    proxy.upsert(slice('web', ['10.180.0.9']));
    await proxy.proxier.sync('partial', CONFIG);
    const afterPartial = await hairpinRules();
    expect(afterPartial.filter((l) => l.includes('-s 10.180.0.9/32 -d 10.180.0.9/32'))).toHaveLength(1);
    expect(afterPartial).toHaveLength(3);
    await proxy.proxier.sync('full', CONFIG);
    expect(await hairpinRules()).toEqual(['-A WEFT-HAIRPIN -s 10.180.0.9/32 -d 10.180.0.9/32 -j MASQUERADE --random-fully']);
  });

  it('reports a rejected payload with the failing line', async () => {
    const payload = '*nat\n:WEFT-BROKEN - [0:0]\n-A WEFT-BROKEN -j WEFT-NOWHERE\nCOMMIT\n';
    const error = await iptablesKernel({ netns: node.path, variant }).restore(payload).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestoreError);
    expect((error as RestoreError).line).toBeGreaterThanOrEqual(3);
    expect((error as RestoreError).message).toMatch(/^cannot apply iptables rules: line \d+ /);
  });
});

describe('variant detection', () => {
  it('reports the variant the node\'s `iptables` is (Debian: nf_tables)', async () => {
    expect(await iptablesKernel().variant()).toBe('nft');
  });
});
