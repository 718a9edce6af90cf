import { describe, expect, it } from 'vitest';
import { parseResolvConf } from '../../../plugins/host-local/dns.ts';

describe('resolvConf parsing', () => {
  it('reads nameservers, domain, search and options, skipping comments and unknown lines', () => {
    const text = ['# generated', '; also a comment', 'nameserver 10.96.0.10', 'nameserver  fd00::10 ', 'domain cluster.local', 'search a.svc b.svc', 'search c', 'options ndots:5 edns0', 'sortlist 10.0.0.0', 'nameserver'].join('\n');
    expect(parseResolvConf(text)).toEqual({
      nameservers: ['10.96.0.10', 'fd00::10'],
      domain: 'cluster.local',
      search: ['a.svc', 'b.svc', 'c'],
      options: ['ndots:5', 'edns0'],
    });
  });

  it('gives an empty dns for an empty file', () => {
    expect(parseResolvConf('\n\n')).toEqual({});
  });
});
