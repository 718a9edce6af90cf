import { describe, expect, it } from 'vitest';
import { serviceChainName } from '../../../proxy/chain-names.ts';
import { builtinJumps } from '../../../proxy/iptables/jumps.ts';
import { chainKey, DISPATCH_CHAINS, dispatchText, renderIptables } from '../../../proxy/iptables/render.ts';
import { parseSaved } from '../../../proxy/iptables/saved.ts';
import type { ProxyState } from '../../../proxy/state.ts';
import { CONFIG, EP1, servicePort } from './fixtures.ts';

const WEB = servicePort();
const API = servicePort({ key: 'ns1/api:https', service: 'ns1/api', clusterIP: '172.30.0.42', port: 443 });
const STATE: ProxyState = { servicePorts: [API, WEB], skipped: [] };
const declared = (text: string) => text.split('\n').filter((l) => l.startsWith(':')).map((l) => l.split(' ')[0]?.slice(1));
const declaredIn = (text: string, table: string) => declared(text.split(`*${table}`)[1]?.split('COMMIT')[0] ?? '');

describe('the restore payload', () => {
  it('of a full sync declares every chain, then rules, then jumps from the built-in chains, per table', () => {
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

  it('of a partial sync rewrites the dispatch chains and only the changed Service\'s chains', () => {
    const full = renderIptables(STATE, CONFIG);
    const existingChains = { nat: new Set(declaredIn(full, 'nat') as string[]), filter: new Set(declaredIn(full, 'filter') as string[]) };
    const text = renderIptables(STATE, CONFIG, { changedServices: new Set(['ns1/web']), existingChains, jumps: [] });
    expect(declared(text)).toEqual(['WEFT-SERVICES', 'WEFT-SERVICES', 'WEFT-NODEPORTS', 'WEFT-HAIRPIN', serviceChainName('SVC', { key: WEB.key, protocol: 'tcp' })]);
    expect(text).not.toContain('-A WEFT-POSTROUTING');
    expect(text).not.toContain('-I ');
    // The unchanged Service is still dispatched to: its chain stays as it is in the kernel.
    expect(text).toContain(`-j ${serviceChainName('SVC', { key: API.key, protocol: 'tcp' })}`);
  });

  it('of a partial sync appends hairpin rules for new endpoints only, leaving former endpoints\' rules to the next full sync', () => {
    const moved = servicePort({ clusterEndpoints: [EP1, { ip: '10.180.0.9', port: 8080 }] });
    const text = renderIptables({ servicePorts: [moved], skipped: [] }, CONFIG, { changedServices: new Set(['ns1/web']), currentHairpin: new Set(['10.180.0.1', '10.180.0.2']), jumps: [] });
    const lines = text.split('\n');
    expect(lines).not.toContain(':WEFT-HAIRPIN - [0:0]');
    expect(lines.filter((l) => l.includes('WEFT-HAIRPIN -'))).toEqual([
      '-A WEFT-HAIRPIN -m comment --comment "WEFT-HAIRPIN endpoint 10.180.0.9 to itself" -s 10.180.0.9/32 -d 10.180.0.9/32 -j MASQUERADE --random-fully',
    ]);
  });

  it('of a partial sync rewrites a dispatch chain only when its rules changed', () => {
    const full = renderIptables(STATE, CONFIG);
    const current = new Map(DISPATCH_CHAINS.map((c) => [chainKey(c), dispatchText(c, parseSaved(full).rules)]));
    const endpointOnly = renderIptables(STATE, CONFIG, { changedServices: new Set([API.service]), currentDispatch: current, jumps: [] });
    expect(declared(endpointOnly)).not.toContain('WEFT-SERVICES');
    expect(endpointOnly).not.toContain('-A WEFT-SERVICES');
    const withNewService = { ...STATE, servicePorts: [...STATE.servicePorts, servicePort({ key: 'ns1/new:http', service: 'ns1/new', clusterIP: '172.30.0.77' })] };
    const added = renderIptables(withNewService, CONFIG, { changedServices: new Set(['ns1/new']), currentDispatch: current, jumps: [] });
    expect(declared(added)).toContain('WEFT-SERVICES');
    expect(added).toContain('-d 172.30.0.77/32');
  });

  it('of a partial sync also writes a Service whose chains are missing from the kernel', () => {
    const text = renderIptables(STATE, CONFIG, { changedServices: new Set(), existingChains: { nat: new Set(), filter: new Set() }, jumps: [] });
    expect(declared(text)).toContain(serviceChainName('SVC', { key: API.key, protocol: 'tcp' }));
  });

  it('flushes and deletes chains no Service needs any more, after the dispatch chains stop jumping to them', () => {
    const gone = serviceChainName('SVC', { key: 'ns1/old:http', protocol: 'tcp' });
    const text = renderIptables(STATE, CONFIG, { changedServices: new Set(), existingChains: { nat: new Set([gone, 'WEFT-SERVICES']), filter: new Set(['WEFT-OLD']) }, jumps: [] });
    const lines = text.split('\n');
    expect(lines).toContain(`:${gone} - [0:0]`);
    expect(lines.indexOf(`-X ${gone}`)).toBeGreaterThan(lines.findLastIndex((l) => l.startsWith('-A WEFT-SERVICES')));
    expect(lines).toContain('-X WEFT-OLD');
    expect(text).not.toContain('-X WEFT-SERVICES');
  });

  it('adds only the jumps it is given (the apply layer passes the missing ones)', () => {
    const [first] = builtinJumps();
    const text = renderIptables(STATE, CONFIG, { jumps: first ? [first] : [] });
    expect(text.split('\n').filter((l) => l.startsWith('-I '))).toEqual(['-I PREROUTING -m comment --comment "WEFT-SERVICES service portals" -j WEFT-SERVICES']);
  });
});

describe('a sync beside other weft components', () => {
  it('neither flushes nor deletes weftd\'s and weft-bridge\'s WEFT- chains found in the kernel', () => {
    const saved = parseSaved(['*nat', ':WEFT-POSTRTG - [0:0]', ':WEFT-MASQ-0123456789ABCDEF - [0:0]', ':WEFT-SVC-AAAAAAAAAAAAAAAA - [0:0]', '-A POSTROUTING -j WEFT-POSTRTG', 'COMMIT', ''].join('\n'));
    const text = renderIptables(STATE, CONFIG, { existingChains: saved.chains });
    expect(text).not.toContain('WEFT-POSTRTG');
    expect(text).not.toContain('WEFT-MASQ-');
    expect(text).toContain('-X WEFT-SVC-AAAAAAAAAAAAAAAA');
  });
});
