import { describe, expect, it } from 'vitest';
import { serviceChainName } from '../../../../proxy/core/service-names.ts';
import type { ServicePortState } from '../../../../proxy/core/state.ts';
import { renderPartialSync } from '../../../../proxy/iptables/partial-sync.ts';
import { renderFullSync } from '../../../../proxy/iptables/render.ts';
import { CONFIG, EP1, EP2, EP3, servicePort } from '../fixtures.ts';

const WEB = servicePort();
const API = servicePort({ key: 'ns1/api:https', service: 'ns1/api', clusterIP: '172.30.0.42', port: 443, clusterEndpoints: [EP1], localEndpoints: [] });
const svc = (sp: ServicePortState) => serviceChainName('SVC', sp);
const declared = (text: string) => text.split('\n').filter((l) => l.startsWith(':')).map((l) => l.slice(1, l.indexOf(' ')));

function applied(...ports: ServicePortState[]) {
  return renderFullSync(ports, CONFIG, { jumps: [] }).applied;
}

describe('the restore payload of a partial sync', () => {
  it('of an endpoint change rewrites that Service\'s chain only, appends the new hairpin rule, and leaves the filter table out', () => {
    const moved = { ...WEB, clusterEndpoints: [EP1, EP3] };
    const { payload } = renderPartialSync([{ service: 'ns1/web', before: [WEB], after: [moved] }], applied(WEB, API), CONFIG);
    expect(declared(payload)).toEqual([svc(WEB)]);
    expect(payload.startsWith('*nat\n')).toBe(true);
    expect(payload).not.toContain('*filter');
    expect(payload.split('\n').filter((l) => l.startsWith('-A WEFT-HAIRPIN'))).toEqual(['-A WEFT-HAIRPIN -s 10.180.1.3/32 -d 10.180.1.3/32 -j MASQUERADE --random-fully']);
    expect(payload).toContain('--to-destination 10.180.1.3:8080');
    expect(payload).not.toContain(svc(API));
  });

  it('counts the rules it writes per table', () => {
    const { payload, written } = renderPartialSync([{ service: 'ns1/api', before: [API], after: [{ ...API, clusterEndpoints: [] }] }], applied(WEB, API), CONFIG);
    const count = (table: string) => (payload.split(`*${table}`)[1]?.split('COMMIT')[0] ?? '').split('\n').filter((l) => l.startsWith('-A ')).length;
    expect(written).toEqual({ filter: count('filter'), nat: count('nat') });
    expect(written.filter).toBe(1);
  });

  it('writes nothing when the changed Service renders the same rules', () => {
    expect(renderPartialSync([{ service: 'ns1/web', before: [WEB], after: [WEB] }], applied(WEB, API), CONFIG).payload).toBe('');
  });

  it('of a new Service declares its chain and rewrites the dispatch chain with every Service\'s entry, the node-port entry last', () => {
    const NEW = servicePort({ key: 'ns1/new:http', service: 'ns1/new', clusterIP: '172.30.0.77' });
    const { payload } = renderPartialSync([{ service: 'ns1/new', before: [], after: [NEW] }], applied(WEB, API), CONFIG);
    expect(declared(payload)).toEqual(['WEFT-SERVICES', svc(NEW)]);
    const entries = payload.split('\n').filter((l) => l.startsWith('-A WEFT-SERVICES'));
    expect(entries.map((l) => / -d (\S+)\/32/.exec(l)?.[1] ?? 'node ports')).toEqual(['172.30.0.41', '172.30.0.42', '172.30.0.77', 'node ports']);
  });

  it('of a removed Service rewrites the dispatch chain without it, then flushes and deletes its chain', () => {
    const { payload } = renderPartialSync([{ service: 'ns1/api', before: [API], after: [] }], applied(WEB, API), CONFIG);
    const lines = payload.split('\n');
    expect(declared(payload)).toEqual(['WEFT-SERVICES', svc(API)]);
    expect(payload).not.toContain('-d 172.30.0.42/32');
    expect(lines.indexOf(`-X ${svc(API)}`)).toBeGreaterThan(lines.findLastIndex((l) => l.startsWith('-A WEFT-SERVICES')));
  });

  it('of a Service losing all endpoints moves it to the filter table\'s REJECT, with both dispatch chains rewritten', () => {
    const { payload } = renderPartialSync([{ service: 'ns1/api', before: [API], after: [{ ...API, clusterEndpoints: [] }] }], applied(WEB, API), CONFIG);
    expect(declared(payload)).toEqual(['WEFT-SERVICES', 'WEFT-SERVICES', svc(API)]);
    expect(payload).toMatch(/\*filter\n:WEFT-SERVICES - \[0:0\]\n-A WEFT-SERVICES .*-d 172\.30\.0\.42\/32 -p tcp --dport 443 -j REJECT\nCOMMIT/);
    expect(payload).toContain(`-X ${svc(API)}`);
  });

  it('leaves a former endpoint\'s hairpin rule to the next full sync, and appends none for an address already covered', () => {
    const { payload, change } = renderPartialSync([{ service: 'ns1/web', before: [WEB], after: [{ ...WEB, clusterEndpoints: [EP1] }] }], applied(WEB, API), CONFIG);
    expect(payload).not.toContain('WEFT-HAIRPIN');
    expect(change.hairpin).toEqual([]);
  });

  it('knows after one partial sync what the next one finds: the dispatch lines and hairpin addresses it wrote', () => {
    const record = applied(WEB);
    const NEW = { ...API, clusterEndpoints: [EP2, EP3] };
    const first = renderPartialSync([{ service: 'ns1/api', before: [], after: [NEW] }], record, CONFIG);
    record.update(first.change);
    const again = renderPartialSync([{ service: 'ns1/api', before: [NEW], after: [NEW] }], record, CONFIG);
    expect(again.payload).toBe('');
    expect(record.hasHairpin(EP3.ip)).toBe(true);
  });
});
