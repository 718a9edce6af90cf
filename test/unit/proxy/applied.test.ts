import { describe, expect, it } from 'vitest';
import { applyPayload, countRules } from '../../../proxy/iptables/applied.ts';
import { renderIptables } from '../../../proxy/iptables/render.ts';
import { parseSaved } from '../../../proxy/iptables/saved.ts';
import { buildProxyState } from '../../../proxy/state.ts';
import { CONFIG, EP1, EP2, servicePort } from './fixtures.ts';

const state = (...servicePorts: ReturnType<typeof servicePort>[]) => ({ servicePorts, skipped: [] });
const empty = { chains: { nat: new Set<string>(), filter: new Set<string>() }, hairpin: new Set<string>(), dispatch: new Map<string, string>() };

describe('applyPayload', () => {
  it('after a full sync knows exactly the chains and hairpin addresses the payload wrote', () => {
    const payload = renderIptables(state(servicePort()), CONFIG);
    const applied = applyPayload(empty, payload);
    expect(applied.chains).toEqual(parseSaved(payload).chains);
    expect([...applied.hairpin].sort()).toEqual([EP1.ip, EP2.ip]);
  });

  it('after a partial sync forgets deleted chains and keeps the hairpin addresses it left in the kernel, so the next partial needs no iptables-save', () => {
    const full = applyPayload(empty, renderIptables(state(servicePort(), servicePort({ key: 'ns1/api:http', service: 'ns1/api', clusterIP: '172.30.0.42', clusterEndpoints: [{ ip: '10.180.0.9', port: 80 }], localEndpoints: [] })), CONFIG));
    const partial = renderIptables(state(servicePort()), CONFIG, { changedServices: new Set(['ns1/api']), currentHairpin: full.hairpin, existingChains: full.chains, jumps: [] });
    const after = applyPayload(full, partial);
    expect([...after.hairpin].sort()).toEqual(['10.180.0.9', EP1.ip, EP2.ip].sort());
    expect(after.dispatch).toEqual(applyPayload(empty, renderIptables(state(servicePort()), CONFIG)).dispatch);
    const wanted = applyPayload(empty, renderIptables(state(servicePort()), CONFIG));
    expect(after.chains).toEqual(wanted.chains);
  });

  it('counts the rules a payload writes per table', () => {
    const counts = countRules(renderIptables(buildProxyState({ services: [], endpointSlices: [], nodes: [] }, CONFIG), CONFIG));
    expect(counts.nat).toBeGreaterThan(0);
    expect(counts.filter).toBeGreaterThan(0);
  });
});
