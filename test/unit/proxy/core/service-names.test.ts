import { describe, expect, it } from 'vitest';
import { affinityListName, CHAIN_NAME_MAX, serviceChainName, shortHash } from '../../../../proxy/core/service-names.ts';

describe('chain names', () => {
  it('derive a stable 16-character base32 hash of the service port and protocol', () => {
    expect(shortHash('ns1/web:http/tcp')).toMatch(/^[A-Z2-7]{16}$/);
    expect(serviceChainName('SVC', { key: 'ns1/web:http', protocol: 'tcp' })).toBe(`WEFT-SVC-${shortHash('ns1/web:http/tcp')}`);
    expect(serviceChainName('SVC', { key: 'ns1/web:http', protocol: 'tcp' })).toBe(serviceChainName('SVC', { key: 'ns1/web:http', protocol: 'tcp' }));
  });

  it('match a known golden value, so names survive refactoring', () => {
    expect(shortHash('')).toBe('4OYMIQUY7QOBJGX3');
    expect(serviceChainName('FW', { key: 'default/lb:http', protocol: 'tcp' })).toBe('WEFT-FW-E4TZRK3JN4F2QCTK');
  });

  it('differ between TCP and UDP on the same port, and between chain kinds only by prefix', () => {
    const tcp = serviceChainName('SVC', { key: 'ns1/dns:53', protocol: 'tcp' });
    const udp = serviceChainName('SVC', { key: 'ns1/dns:53', protocol: 'udp' });
    expect(tcp).not.toBe(udp);
    expect(serviceChainName('EXT', { key: 'ns1/dns:53', protocol: 'tcp' }).slice(-16)).toBe(tcp.slice(-16));
  });

  it('stay within the 28-character iptables limit for every kind, however long the Service name', () => {
    const key = `${'n'.repeat(63)}/${'s'.repeat(63)}:${'p'.repeat(15)}`;
    for (const kind of ['SVC', 'SVL', 'EXT', 'FW'] as const) expect(serviceChainName(kind, { key: key, protocol: 'udp' }).length).toBeLessThanOrEqual(CHAIN_NAME_MAX);
    expect(affinityListName({ key: key, protocol: 'tcp' }, '10.180.0.1:8080')).toMatch(/^WEFT-AFF-[A-Z2-7]{16}$/);
  });
});
