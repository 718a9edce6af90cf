import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectBackend, RestoreError, restoreRules, saveRules, syncIptables, type IptablesBackend } from '../../proxy/apply-iptables.ts';
import { serviceChainName } from '../../proxy/chain-names.ts';
import type { ProxyConfig } from '../../proxy/config.ts';
import type { ProxyState, ServicePortState } from '../../proxy/state.ts';
import { NetnsScope, type Netns } from '../support/netns.ts';
import { EP1, servicePort } from '../unit/proxy/fixtures.ts';

// The apply layer against the real iptables in a namespace: idempotent jumps, partial syncs that
// delete stale chains, other software's rules left alone, failures naming the payload line.

const CONFIG: ProxyConfig = { hostname: 'node-1', clusterCidr: '10.180.0.0/16', masqueradeMark: 0x4000, nodePortAddresses: [] };

/** One TCP port with one endpoint, from the unit tests' fixture. */
function port(name: string, clusterIP: string): ServicePortState {
  return servicePort({ key: `ns1/${name}:http`, service: `ns1/${name}`, clusterIP, clusterEndpoints: [EP1], localEndpoints: [] });
}

const WEB = port('web', '172.30.0.41');
const API = port('api', '172.30.0.42');
const BOTH: ProxyState = { servicePorts: [API, WEB], skipped: [] };

function jumpCount(saved: string, chain: string, target: string): number {
  return saved.split('\n').filter((l) => l.startsWith(`-A ${chain} `) && l.endsWith(`-j ${target}`)).length;
}

describe.each(['nft', 'legacy'] as const)('syncing with iptables-%s', (backend: IptablesBackend) => {
  const scope = new NetnsScope();
  let node: Netns;

  beforeAll(async () => {
    node = await scope.create(`papply-${backend}`);
    // Another program's rule in a built-in chain must survive every sync.
    await node.exec(`iptables-${backend}`, ['-t', 'nat', '-A', 'PREROUTING', '-s', '10.9.9.9/32', '-j', 'RETURN']);
  });
  afterAll(() => scope.cleanup());

  it('adds each jump from a built-in chain once, however often it syncs, and keeps foreign rules', async () => {
    await syncIptables(BOTH, CONFIG, { netns: node.path, backend });
    await syncIptables(BOTH, CONFIG, { netns: node.path, backend });
    const saved = await saveRules(backend, { netns: node.path });
    expect(jumpCount(saved, 'PREROUTING', 'WEFT-SERVICES')).toBe(1);
    expect(jumpCount(saved, 'FORWARD', 'WEFT-FORWARD')).toBe(1);
    expect(jumpCount(saved, 'OUTPUT', 'WEFT-SERVICES')).toBe(2); // one in nat, one in filter
    expect(saved).toContain('-A PREROUTING -s 10.9.9.9/32 -j RETURN');
  });

  it('a partial sync deletes the chain of a removed Service and leaves the others in place', async () => {
    await syncIptables(BOTH, CONFIG, { netns: node.path, backend });
    await syncIptables({ servicePorts: [WEB], skipped: [] }, CONFIG, { netns: node.path, backend, changedServices: new Set(['ns1/api']) });
    const saved = await saveRules(backend, { netns: node.path });
    expect(saved).not.toContain(serviceChainName('SVC', { key: API.key, protocol: 'tcp' }));
    expect(saved).toContain(`-A ${serviceChainName('SVC', { key: WEB.key, protocol: 'tcp' })} `);
    expect(saved).not.toContain('172.30.0.42');
  });

  it('a partial sync appends the new endpoint\'s hairpin rule, and the next full sync drops the former endpoints\' rules', async () => {
    await syncIptables(BOTH, CONFIG, { netns: node.path, backend });
    const moved = { ...WEB, clusterEndpoints: [{ ip: '10.180.0.9', port: 8080 }] };
    const hairpinRules = async () => (await saveRules(backend, { netns: node.path })).split('\n').filter((l) => l.startsWith('-A WEFT-HAIRPIN'));
    await syncIptables({ servicePorts: [moved], skipped: [] }, CONFIG, { netns: node.path, backend, changedServices: new Set(['ns1/web', 'ns1/api']) });
    const afterPartial = await hairpinRules();
    expect(afterPartial.filter((l) => l.includes('-s 10.180.0.9/32 -d 10.180.0.9/32'))).toHaveLength(1);
    expect(afterPartial.length).toBeGreaterThan(1);
    await syncIptables({ servicePorts: [moved], skipped: [] }, CONFIG, { netns: node.path, backend });
    const afterFull = await hairpinRules();
    expect(afterFull).toHaveLength(1);
    expect(afterFull[0]).toContain('-s 10.180.0.9/32 -d 10.180.0.9/32');
  });

  it('a rejected payload is reported with the failing line', async () => {
    const payload = '*nat\n:WEFT-BROKEN - [0:0]\n-A WEFT-BROKEN -j WEFT-NOWHERE\nCOMMIT\n';
    const error = await restoreRules(payload, backend, { netns: node.path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestoreError);
    expect((error as RestoreError).line).toBeGreaterThanOrEqual(3);
    expect((error as RestoreError).message).toMatch(/^cannot apply iptables rules: line \d+ /);
  });
});

describe('backend detection', () => {
  it('reports the backend the node\'s `iptables` uses (Debian: nf_tables)', async () => {
    expect(await detectBackend()).toBe('nft');
  });
});
