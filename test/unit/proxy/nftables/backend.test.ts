import { describe, expect, it } from 'vitest';
import { NftablesBackend } from '../../../../proxy/nftables/backend.ts';
import { CONFIG, EP1, EP3, servicePort } from '../fixtures.ts';
import { FakeNft } from '../fake-kernels.ts';

const WEB = servicePort();
const API = servicePort({ key: 'ns1/api:http', service: 'ns1/api', clusterIP: '172.30.0.42', clusterEndpoints: [EP3] });

describe('the nftables backend', () => {
  it('loads the table where there is none, replaces it in one transaction where there is one, then writes element lines only for an endpoint change', async () => {
    const kernel = new FakeNft();
    const backend = new NftablesBackend(kernel);
    await backend.fullSync([WEB, API], CONFIG);
    expect(kernel.applied[0]?.kind).toBe('load');
    expect(kernel.applied[0]?.payload.startsWith('create table ip weft\n')).toBe(true);
    kernel.applied.length = 0;
    await backend.fullSync([WEB, API], CONFIG);
    expect(kernel.applied[0]?.kind).toBe('replace');
    expect(kernel.applied[0]?.payload.startsWith('add table ip weft\ndelete table ip weft\nadd table ip weft\n')).toBe(true);
    await backend.partialSync([{ service: 'ns1/web', before: [WEB], after: [{ ...WEB, clusterEndpoints: [EP1, EP3] }] }], CONFIG);
    expect(kernel.applied[1]?.kind).toBe('update');
    expect(new Set(kernel.applied[1]?.payload.trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' ')))).toEqual(new Set(['add element', 'delete element']));
  });

  it('keeps its group count when a transaction fails, so the next partial sync is computed from what the kernel holds', async () => {
    const kernel = new FakeNft();
    const backend = new NftablesBackend(kernel);
    await backend.fullSync([WEB], CONFIG);
    kernel.failNext = true;
    await expect(backend.partialSync([{ service: 'ns1/api', before: [], after: [API] }], CONFIG)).rejects.toThrow();
    const retried = await backend.partialSync([{ service: 'ns1/api', before: [], after: [API] }], CONFIG);
    expect(retried?.payload).toContain('add map ip weft svcs-tcp-1');
  });

  it('says whether there was a table to remove, and ends its long-lived nft when closed', async () => {
    const kernel = new FakeNft();
    const backend = new NftablesBackend(kernel);
    expect(await backend.cleanup()).toBe(false);
    await backend.fullSync([WEB], CONFIG);
    expect(await backend.cleanup()).toBe(true);
    backend.close();
    expect(kernel.closed).toBe(true);
  });
});
