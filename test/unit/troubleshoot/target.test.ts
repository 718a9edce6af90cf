import { describe, expect, it } from 'vitest';
import { formatTarget, parseTarget } from '../../../troubleshoot/model/target.ts';

describe('--from and --to', () => {
  it('reads addresses with an optional port and protocol', () => {
    expect(parseTarget('10.244.1.5', 'to')).toEqual({ ref: { kind: 'address', ip: '10.244.1.5' } });
    expect(parseTarget('10.244.1.5:8080/udp', 'to')).toEqual({ ref: { kind: 'address', ip: '10.244.1.5' }, port: '8080', proto: 'udp' });
  });

  it('reads pod, svc and node names, a Service port by name', () => {
    expect(parseTarget('pod/default/web-0', 'from').ref).toEqual({ kind: 'pod', namespace: 'default', name: 'web-0' });
    expect(parseTarget('svc/shop/api:http', 'to')).toEqual({ ref: { kind: 'svc', namespace: 'shop', name: 'api' }, port: 'http' });
    expect(parseTarget('node/worker-1:30080/tcp', 'to')).toEqual({ ref: { kind: 'node', name: 'worker-1' }, port: '30080', proto: 'tcp' });
    expect(formatTarget(parseTarget('svc/shop/api:http/udp', 'to'))).toBe('svc/shop/api:http/udp');
  });

  it('refuses malformed addresses, ports, names and a port on the source, naming the flag', () => {
    expect(() => parseTarget('10.244.1', 'to')).toThrow('cannot parse "--to": "10.244.1" is not an IPv4 address');
    expect(() => parseTarget('10.0.0.1:99999', 'to')).toThrow('has port "99999": not a number from 1 to 65535');
    expect(() => parseTarget('10.0.0.1:http', 'to')).toThrow('has port "http"');
    expect(() => parseTarget('pod/Default/x', 'from')).toThrow('is not pod/NAMESPACE/NAME with a valid namespace');
    expect(() => parseTarget('deploy/a/b', 'from')).toThrow('names an unknown kind "deploy"');
    expect(() => parseTarget('10.0.0.1:80', 'from')).toThrow('cannot parse "--from": "10.0.0.1:80" carries a port or protocol');
    expect(() => parseTarget('10.0.0.1:80/sctp', 'to')).toThrow('has protocol "sctp": only tcp and udp');
    expect(parseTarget('10.0.0.1/udp', 'to')).toEqual({ ref: { kind: 'address', ip: '10.0.0.1' }, proto: 'udp' });
  });
});
