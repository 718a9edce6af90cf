import { describe, expect, it } from 'vitest';
import { renderMasqRemoval, renderMasqRules } from '../../../plugins/bridge/masq.ts';
import { masqChainName } from '../../../plugins/bridge/names.ts';

const a = { containerId: 'c1', ifname: 'eth0' };
const chain = masqChainName('net', a);
const tag = '-m comment --comment "weft-bridge net=net id=c1 if=eth0"';

describe('renderMasqRules', () => {
  it('masquerades what leaves the subnet except multicast, per family, in one restore transaction each', () => {
    const rules = renderMasqRules(a, { network: 'net', ips: [{ address: '10.1.0.5/24' }, { address: 'fd00:1::5/64' }] });
    expect(rules.get(4)).toBe(
      ['*nat', `:${chain} - [0:0]`, `-A ${chain} -d 10.1.0.0/24 ${tag} -j ACCEPT`, `-A ${chain} ! -d 224.0.0.0/4 ${tag} -j MASQUERADE`, `-A POSTROUTING -s 10.1.0.5/32 ${tag} -j ${chain}`, 'COMMIT', ''].join('\n'),
    );
    expect(rules.get(6)).toContain(`-A ${chain} ! -d ff00::/8 ${tag} -j MASQUERADE`);
    expect(rules.get(6)).toContain(`-A POSTROUTING -s fd00:1::5/128 ${tag} -j ${chain}`);
  });

  it('renders nothing for a family without address', () => {
    expect([...renderMasqRules(a, { network: 'net', ips: [{ address: '10.1.0.5/24' }] }).keys()]).toEqual([4]);
  });
});

describe('renderMasqRemoval', () => {
  const other = masqChainName('net', { containerId: 'c2', ifname: 'eth0' });
  const saved = [
    '*nat',
    ':POSTROUTING ACCEPT [0:0]',
    `:${chain} - [0:0]`,
    `:${other} - [0:0]`,
    `-A POSTROUTING -s 10.1.0.5/32 ${tag} -j ${chain}`,
    `-A POSTROUTING -s 10.1.0.6/32 -m comment --comment "weft-bridge net=net id=c2 if=eth0" -j ${other}`,
    '-A POSTROUTING -s 10.9.0.0/16 -m comment --comment "someone else" -j MASQUERADE',
    `-A ${chain} -d 10.1.0.0/24 ${tag} -j ACCEPT`,
    `-A ${chain} ! -d 224.0.0.0/4 ${tag} -j MASQUERADE`,
    'COMMIT',
  ].join('\n');

  it('deletes the jump and the chain of the selected attachment only', () => {
    expect(renderMasqRemoval(saved, (net, x) => net === 'net' && x.containerId === 'c1')).toBe(
      ['*nat', `-D POSTROUTING -s 10.1.0.5/32 ${tag} -j ${chain}`, `-F ${chain}`, `-X ${chain}`, 'COMMIT', ''].join('\n'),
    );
  });

  it('renders nothing when no rule matches, so DEL twice is quiet', () => {
    expect(renderMasqRemoval(saved, () => false)).toBe('');
  });
});
