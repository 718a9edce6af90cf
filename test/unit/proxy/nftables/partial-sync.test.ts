import { describe, expect, it } from 'vitest';
import type { ServicePortState } from '../../../../proxy/core/state.ts';
import { groupUse, renderPartialSync } from '../../../../proxy/nftables/partial-sync.ts';
import { servicePortParts } from '../../../../proxy/nftables/render.ts';
import { CONFIG, EP1, EP2, EP3, servicePort } from '../fixtures.ts';

const WEB = servicePort();
const API = servicePort({ key: 'ns1/api:http', service: 'ns1/api', clusterIP: '172.30.0.42', clusterEndpoints: [EP1, EP3] });
const use = (...ports: ServicePortState[]) => groupUse(ports.map((sp) => servicePortParts(sp, CONFIG)));
const webChange = (after: ServicePortState[]) => [{ service: 'ns1/web', before: [WEB], after }];

describe('the nft payload of a partial sync', () => {
  it('turns one endpoint change into deleting and re-adding the changed map element and adding the new hairpin pair', () => {
    const next = renderPartialSync(webChange([{ ...WEB, clusterEndpoints: [EP1, EP3] }]), use(WEB, API), CONFIG);
    expect(next?.payload.split('\n')).toEqual([
      'delete element ip weft eps-tcp-2 { 172.30.0.41 . 80 . 1 }',
      'add element ip weft hairpin { 10.180.1.3 . 10.180.1.3 }',
      'add element ip weft eps-tcp-2 { 172.30.0.41 . 80 . 1 : 10.180.1.3 }',
      '',
    ]);
  });

  it('leaves a former endpoint\'s hairpin pair to the next full sync', () => {
    const payload = renderPartialSync(webChange([{ ...WEB, clusterEndpoints: [EP1] }]), use(WEB, API), CONFIG)?.payload ?? '';
    expect(payload).not.toContain('hairpin');
    expect(payload).toContain('delete element ip weft svcs-tcp-2 { 172.30.0.41 . 80 }');
    expect(payload).toContain('add element ip weft svcs-tcp-1 { 172.30.0.41 . 80 comment "ns1/web:http" : 8080 }');
  });

  it('declares a new group with its chain and the rewritten dispatch jumps when a Service moves into it', () => {
    const lines = (renderPartialSync(webChange([{ ...WEB, clusterEndpoints: [EP2] }]), use(WEB, API), CONFIG)?.payload ?? '').split('\n');
    const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
    expect(at('add map ip weft svcs-tcp-1')).toBeLessThan(at('add element ip weft svcs-tcp-1'));
    expect(lines).toContain('add rule ip weft services jump group-tcp-1');
    expect(lines).toContain('add rule ip weft group-tcp-1 meta l4proto tcp ip daddr . th dport @svcs-tcp-1 dnat ip to ip daddr . th dport . numgen random mod 1 map @eps-tcp-1 : ip daddr . th dport map @svcs-tcp-1');
    expect(lines.some((l) => l.startsWith('delete set') || l.startsWith('delete chain'))).toBe(false);
  });

  it('removes a group, its chains and its maps once its last Service leaves it, and counts it gone', () => {
    const single = { ...API, clusterEndpoints: [EP3] };
    const next = renderPartialSync([{ service: 'ns1/api', before: [single], after: [] }], use(WEB, single), CONFIG);
    expect(next?.payload).toContain('delete chain ip weft group-tcp-1');
    expect(next?.payload).toContain('delete map ip weft eps-tcp-1');
    expect([...(next?.use.keys() ?? [])]).toEqual(['tcp-2']);
  });

  it('writes nothing when a changed Service renders the same parts', () => {
    expect(renderPartialSync(webChange([WEB]), use(WEB, API), CONFIG)?.payload).toBe('');
  });

  it('gives a Service that gains session affinity its own chain and affinity sets, reached through the verdict map', () => {
    const payload = renderPartialSync(webChange([{ ...WEB, affinitySeconds: 60 }]), use(WEB, API), CONFIG)?.payload ?? '';
    expect(payload).toMatch(/^add chain ip weft WEFT-SVC-[A-Z2-7]{16}$/m);
    expect(payload).toMatch(/^add set ip weft WEFT-AFF-[A-Z2-7]{16} \{ type ipv4_addr; flags dynamic,timeout; timeout 60s; \}$/m);
    expect(payload).toMatch(/^add element ip weft service-ips \{ 172\.30\.0\.41 \. tcp \. 80 comment "ns1\/web:http" : goto WEFT-SVC-[A-Z2-7]{16} \}$/m);
    expect(payload).toContain('delete element ip weft svcs-tcp-2 { 172.30.0.41 . 80 }');
    expect(payload).toContain('delete element ip weft eps-tcp-2 { 172.30.0.41 . 80 . 0, 172.30.0.41 . 80 . 1 }');
  });

  it('deletes a renamed port\'s elements by key and adds them back under the new name, in one transaction', () => {
    const payload = renderPartialSync(webChange([{ ...WEB, key: 'ns1/web:www' }]), use(WEB, API), CONFIG)?.payload;
    expect(payload?.split('\n')).toEqual(['delete element ip weft svcs-tcp-2 { 172.30.0.41 . 80 }', 'add element ip weft svcs-tcp-2 { 172.30.0.41 . 80 comment "ns1/web:www" : 8080 }', '']);
  });
});
