import { describe, expect, it } from 'vitest';
import { serviceChainName } from '../../../../proxy/core/service-names.ts';
import { builtinJumps } from '../../../../proxy/iptables/jumps.ts';
import { renderFullSync, renderIptables } from '../../../../proxy/iptables/render.ts';
import { parseSaved } from '../../../../proxy/iptables/saved.ts';
import type { ProxyState } from '../../../../proxy/core/state.ts';
import { CONFIG, servicePort } from '../fixtures.ts';

const WEB = servicePort();
const API = servicePort({ key: 'ns1/api:https', service: 'ns1/api', clusterIP: '172.30.0.42', port: 443 });
const STATE: ProxyState = { servicePorts: [API, WEB], skipped: [] };

describe('the restore payload of a full sync', () => {
  it('declares every chain, then rules, then jumps from the built-in chains, per table', () => {
    const text = renderIptables(STATE, CONFIG);
    expect(text.split('\n').filter((l) => /^[*:]|^COMMIT|^-I/.test(l))).toEqual([
      '*filter',
      ':WEFT-FORWARD - [0:0]',
      ':WEFT-SERVICES - [0:0]',
      '-I FORWARD -m comment --comment "WEFT-FORWARD service forwarding" -j WEFT-FORWARD',
      '-I OUTPUT -m comment --comment "WEFT-SERVICES service verdicts" -m conntrack --ctstate NEW -j WEFT-SERVICES',
      '-I FORWARD -m comment --comment "WEFT-SERVICES service verdicts" -m conntrack --ctstate NEW -j WEFT-SERVICES',
      '-I INPUT -m comment --comment "WEFT-SERVICES service verdicts" -m conntrack --ctstate NEW -j WEFT-SERVICES',
      'COMMIT',
      '*nat',
      ':WEFT-POSTROUTING - [0:0]',
      ':WEFT-SERVICES - [0:0]',
      ':WEFT-NODEPORTS - [0:0]',
      ':WEFT-HAIRPIN - [0:0]',
      `:${serviceChainName('SVC', { key: API.key, protocol: 'tcp' })} - [0:0]`,
      `:${serviceChainName('SVC', { key: WEB.key, protocol: 'tcp' })} - [0:0]`,
      '-I POSTROUTING -m comment --comment "WEFT-POSTROUTING service masquerade" -j WEFT-POSTROUTING',
      '-I OUTPUT -m comment --comment "WEFT-SERVICES service portals" -j WEFT-SERVICES',
      '-I PREROUTING -m comment --comment "WEFT-SERVICES service portals" -j WEFT-SERVICES',
      'COMMIT',
    ]);
  });

  it('keeps the node-port entry as the last rule of nat WEFT-SERVICES', () => {
    const nat = renderIptables(STATE, CONFIG).split('*nat')[1] ?? '';
    const entries = nat.split('\n').filter((l) => l.startsWith('-A WEFT-SERVICES'));
    expect(entries.at(-1)).toContain('-j WEFT-NODEPORTS');
    expect(entries).toHaveLength(3);
  });

  it('writes one hairpin rule per endpoint address, even when two Services share it', () => {
    const text = renderIptables({ servicePorts: [WEB, { ...API, clusterEndpoints: WEB.clusterEndpoints }], skipped: [] }, CONFIG);
    expect(text.split('\n').filter((l) => l.startsWith('-A WEFT-HAIRPIN'))).toEqual([
      '-A WEFT-HAIRPIN -s 10.180.0.1/32 -d 10.180.0.1/32 -j MASQUERADE --random-fully',
      '-A WEFT-HAIRPIN -s 10.180.0.2/32 -d 10.180.0.2/32 -j MASQUERADE --random-fully',
    ]);
  });

  it('writes no hairpin rule for an endpoint known to run on another node', () => {
    const remote = servicePort({ clusterEndpoints: [{ ip: '10.180.0.1', port: 8080, nodeName: 'node-2' }, { ip: '10.180.0.2', port: 8080, nodeName: 'node-1' }] });
    expect(renderIptables({ servicePorts: [remote], skipped: [] }, CONFIG).split('\n').filter((l) => l.startsWith('-A WEFT-HAIRPIN'))).toEqual(['-A WEFT-HAIRPIN -s 10.180.0.2/32 -d 10.180.0.2/32 -j MASQUERADE --random-fully']);
  });

  it('flushes and deletes chains no Service needs any more, after the dispatch chains stop jumping to them', () => {
    const gone = serviceChainName('SVC', { key: 'ns1/old:http', protocol: 'tcp' });
    const { payload } = renderFullSync(STATE.servicePorts, CONFIG, { existingChains: { nat: new Set([gone, 'WEFT-SERVICES']), filter: new Set(['WEFT-SVC-BBBBBBBBBBBBBBBB']) }, jumps: [] });
    const lines = payload.split('\n');
    expect(lines).toContain(`:${gone} - [0:0]`);
    expect(lines.indexOf(`-X ${gone}`)).toBeGreaterThan(lines.findLastIndex((l) => l.startsWith('-A WEFT-SERVICES')));
    expect(lines).toContain('-X WEFT-SVC-BBBBBBBBBBBBBBBB');
    expect(payload).not.toContain('-X WEFT-SERVICES');
  });

  it('adds only the jumps it is given (the backend passes the missing ones)', () => {
    const [first] = builtinJumps();
    const { payload } = renderFullSync(STATE.servicePorts, CONFIG, { jumps: first ? [first] : [] });
    expect(payload.split('\n').filter((l) => l.startsWith('-I '))).toEqual(['-I PREROUTING -m comment --comment "WEFT-SERVICES service portals" -j WEFT-SERVICES']);
  });

  it('is counted per table as the rules it appends and inserts', () => {
    const { payload, written } = renderFullSync(STATE.servicePorts, CONFIG);
    const count = (table: string) => (payload.split(`*${table}`)[1]?.split('COMMIT')[0] ?? '').split('\n').filter((l) => /^-[AI] /.test(l)).length;
    expect(written).toEqual({ filter: count('filter'), nat: count('nat') });
  });
});

describe('a sync beside other weft components', () => {
  it('neither flushes nor deletes weftd\'s and weft-bridge\'s WEFT- chains found in the kernel', () => {
    const saved = parseSaved(['*nat', ':WEFT-POSTRTG - [0:0]', ':WEFT-MASQ-0123456789ABCDEF - [0:0]', ':WEFT-SVC-AAAAAAAAAAAAAAAA - [0:0]', '-A POSTROUTING -j WEFT-POSTRTG', 'COMMIT', ''].join('\n'));
    const { payload } = renderFullSync(STATE.servicePorts, CONFIG, { existingChains: saved.chains });
    expect(payload).not.toContain('WEFT-POSTRTG');
    expect(payload).not.toContain('WEFT-MASQ-');
    expect(payload).toContain('-X WEFT-SVC-AAAAAAAAAAAAAAAA');
  });
});
