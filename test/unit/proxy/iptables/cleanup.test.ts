import { describe, expect, it } from 'vitest';
import { renderCleanup } from '../../../../proxy/iptables/cleanup.ts';
import { parseSaved } from '../../../../proxy/iptables/saved.ts';

const SAVED = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:WEFT-FORWARD - [0:0]
:WEFT-SERVICES - [0:0]
-A FORWARD -m comment --comment "WEFT-FORWARD service forwarding" -j WEFT-FORWARD
-A FORWARD -j DOCKER-USER
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:WEFT-SERVICES - [0:0]
:WEFT-SVC-AAAAAAAAAAAAAAAA - [0:0]
:WEFT-POSTRTG - [0:0]
-A PREROUTING -m comment --comment "WEFT-SERVICES service portals" -j WEFT-SERVICES
-A POSTROUTING -j WEFT-POSTRTG
-A WEFT-SERVICES -d 172.30.0.41/32 -p tcp --dport 80 -j WEFT-SVC-AAAAAAAAAAAAAAAA
COMMIT
`;

describe('the cleanup payload', () => {
  it('deletes our jumps from the built-in chains, then flushes and deletes our chains, and leaves other rules and weftd\'s chain', () => {
    expect(renderCleanup(parseSaved(SAVED))).toBe(
      [
        '*filter',
        ':WEFT-FORWARD - [0:0]',
        ':WEFT-SERVICES - [0:0]',
        '-D FORWARD -m comment --comment "WEFT-FORWARD service forwarding" -j WEFT-FORWARD',
        '-X WEFT-FORWARD',
        '-X WEFT-SERVICES',
        'COMMIT',
        '*nat',
        ':WEFT-SERVICES - [0:0]',
        ':WEFT-SVC-AAAAAAAAAAAAAAAA - [0:0]',
        '-D PREROUTING -m comment --comment "WEFT-SERVICES service portals" -j WEFT-SERVICES',
        '-X WEFT-SERVICES',
        '-X WEFT-SVC-AAAAAAAAAAAAAAAA',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it('is empty on a node without our rules', () => {
    expect(renderCleanup(parseSaved('*nat\n:PREROUTING ACCEPT [0:0]\n-A POSTROUTING -j WEFT-POSTRTG\nCOMMIT\n'))).toBe('');
  });
});
