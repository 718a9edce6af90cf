import { describe, expect, it } from 'vitest';
import { DestinationClaims } from '../../../../proxy/core/destinations.ts';
import { servicePort } from '../fixtures.ts';

const A = servicePort({ key: 'ns1/a:http', service: 'ns1/a', externalIPs: ['192.0.2.10'] });
const B = servicePort({ key: 'ns1/b:http', service: 'ns1/b', clusterIP: '172.30.0.50', externalIPs: ['192.0.2.10'] });

describe('destination claims', () => {
  it('give a destination to the first port claiming it and skip a later one, naming the owner', () => {
    const claims = new DestinationClaims();
    expect(claims.claim([A]).servicePorts).toEqual([A]);
    expect(claims.claim([B])).toEqual({ servicePorts: [], skipped: [{ service: 'ns1/b:http', reason: 'destination "tcp 192.0.2.10:80" is already served by "ns1/a:http"' }] });
    expect(claims.holds(A)).toBe(true);
    expect(claims.holds(B)).toBe(false);
  });

  it('let a port claim its own destinations again, and the same address on another port or protocol', () => {
    const claims = new DestinationClaims();
    claims.claim([A]);
    expect(claims.claim([A]).servicePorts).toEqual([A]);
    expect(claims.claim([{ ...B, port: 443 }, { ...B, key: 'ns1/b:dns', protocol: 'udp' }]).servicePorts).toHaveLength(2);
  });

  it('say when a released destination was waited for, so the waiting port gets it in a full sync', () => {
    const claims = new DestinationClaims();
    claims.claim([A]);
    claims.claim([B]);
    expect(claims.release([A])).toBe(true);
    expect(claims.claim([B]).servicePorts).toEqual([B]);
    expect(claims.release([B])).toBe(false);
  });
});
