import { describe, expect, it } from 'vitest';
import { commandOutput, heading, parseLeaseListing, table } from '../../../scripts/demo/report.ts';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe('demo report', () => {
  it('reads leases from etcdctl JSON, sorted by subnet numerically', () => {
    const lease = (subnet: string, ip: string, mac: string) => ({
      key: b64(`/coreos.com/network/subnets/${subnet}`),
      value: b64(JSON.stringify({ PublicIP: ip, BackendType: 'vxlan', BackendData: { VNI: 1, VtepMAC: mac } })),
    });
    const json = JSON.stringify({ kvs: [lease('10.244.113.0-24', '172.30.90.1', 'aa:aa:aa:aa:aa:aa'), lease('10.244.36.0-24', '172.30.90.2', 'bb:bb:bb:bb:bb:bb')] });
    expect(parseLeaseListing(json, '/coreos.com/network')).toEqual([
      { subnet: '10.244.36.0/24', publicIp: '172.30.90.2', vtepMac: 'bb:bb:bb:bb:bb:bb' },
      { subnet: '10.244.113.0/24', publicIp: '172.30.90.1', vtepMac: 'aa:aa:aa:aa:aa:aa' },
    ]);
  });

  it('reads an empty listing as no leases', () => {
    expect(parseLeaseListing('{"header":{}}', '/coreos.com/network')).toEqual([]);
  });

  it('aligns table columns to the widest cell', () => {
    expect(table([['POD', 'IP'], ['n1p1', '10.244.1.2']])).toBe('  POD   IP\n  n1p1  10.244.1.2\n');
  });

  it('indents command output under the command, and says when there was none', () => {
    expect(commandOutput('ip route', 'a\nb\n')).toBe('  $ ip route\n    a\n    b\n');
    expect(commandOutput('ip neigh', '')).toBe('  $ ip neigh\n    (nothing)\n');
  });

  it('heads a section with its title', () => {
    expect(heading('Pods')).toMatch(/^\n== Pods =+\n$/);
  });
});
