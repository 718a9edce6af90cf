import { describe, expect, it } from 'vitest';
import { IptablesBackend } from '../../../../proxy/iptables/backend.ts';
import { CONFIG, EP3, servicePort } from '../fixtures.ts';
import { FakeIptables } from '../fake-kernels.ts';

const WEB = servicePort();
const API = servicePort({ key: 'ns1/api:http', service: 'ns1/api', clusterIP: '172.30.0.42' });

describe('the iptables backend', () => {
  it('reads the kernel before a full sync and inserts only the jumps missing there', async () => {
    const kernel = new FakeIptables();
    kernel.saved = '*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m comment --comment "WEFT-SERVICES service portals" -j WEFT-SERVICES\nCOMMIT\n';
    await new IptablesBackend(kernel).fullSync([WEB, API], CONFIG);
    expect(kernel.saves).toBe(1);
    expect(kernel.restored).toHaveLength(1);
    expect(kernel.restored[0]).not.toContain('-I PREROUTING');
    expect(kernel.restored[0]).toContain('-I OUTPUT -m comment --comment "WEFT-SERVICES service portals" -j WEFT-SERVICES');
  });

  it('syncs an endpoint change without reading the kernel, writing that Service\'s chain only', async () => {
    const kernel = new FakeIptables();
    const backend = new IptablesBackend(kernel);
    await backend.fullSync([WEB, API], CONFIG);
    const result = await backend.partialSync([{ service: 'ns1/web', before: [WEB], after: [{ ...WEB, clusterEndpoints: [EP3] }] }], CONFIG);
    expect(kernel.saves).toBe(1);
    expect(result?.written).toEqual({ nat: 3, filter: 0 });
    expect(kernel.restored[1]?.split('\n').filter((l) => l.startsWith(':'))).toHaveLength(1);
  });

  it('refuses partial syncs after a failed restore until a full sync succeeded', async () => {
    const kernel = new FakeIptables();
    const backend = new IptablesBackend(kernel);
    await backend.fullSync([WEB], CONFIG);
    kernel.failNext = true;
    await expect(backend.partialSync([{ service: 'ns1/api', before: [], after: [API] }], CONFIG)).rejects.toThrow('cannot apply');
    expect(await backend.partialSync([{ service: 'ns1/api', before: [], after: [API] }], CONFIG)).toBeUndefined();
    await backend.fullSync([WEB, API], CONFIG);
    expect(await backend.partialSync([{ service: 'ns1/api', before: [API], after: [API] }], CONFIG)).toEqual({ written: { nat: 0, filter: 0 }, payload: '' });
  });

  it('cleans up what it finds, and nothing on a node without iptables', async () => {
    const kernel = new FakeIptables();
    kernel.saved = '*nat\n:WEFT-SERVICES - [0:0]\n-A PREROUTING -j WEFT-SERVICES\nCOMMIT\n';
    expect(await new IptablesBackend(kernel).cleanup()).toBe(true);
    expect(kernel.restored).toEqual(['*nat\n:WEFT-SERVICES - [0:0]\n-D PREROUTING -j WEFT-SERVICES\n-X WEFT-SERVICES\nCOMMIT\n']);
    kernel.installed = undefined;
    expect(await new IptablesBackend(kernel).cleanup()).toBe(false);
  });
});
