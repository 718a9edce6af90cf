import { describe, expect, it } from 'vitest';
import { parseWeftdArgs } from '../../../plugins/vxlan/weftd-args.ts';

describe('parseWeftdArgs', () => {
  it('reads flannel-style flags with defaults for prefix, subnet file and renew interval', () => {
    expect(parseWeftdArgs(['--etcd-endpoints=http://10.0.0.1:2379,http://10.0.0.2:2379', '--iface=eth0', '--ip-masq', '--healthz-port=8471'])).toEqual({
      etcdEndpoints: ['http://10.0.0.1:2379', 'http://10.0.0.2:2379'],
      etcdPrefix: '/coreos.com/network',
      iface: 'eth0',
      subnetFile: '/run/weft/subnet.env',
      ipMasq: true,
      healthzPort: 8471,
      renewIntervalMs: 3_600_000,
    });
  });

  it.each([
    ['no etcd endpoints', ['--iface=eth0'], /"--etcd-endpoints" is required/],
    ['an endpoint that is not a URL', ['--etcd-endpoints=10.0.0.1:2379'], /not an http/],
    ['a bad public IP', ['--etcd-endpoints=http://a:1', '--public-ip=10.0.0'], /"--public-ip"/],
    ['a relative subnet file', ['--etcd-endpoints=http://a:1', '--subnet-file=run/x'], /"--subnet-file"/],
    ['an unknown flag', ['--etcd-endpoints=http://a:1', '--backend=udp'], /unknown flag "--backend"/],
    ['the not yet available kube subnet manager', ['--kube-subnet-mgr'], /not implemented yet/],
  ])('rejects %s', (_, argv, message) => {
    expect(() => parseWeftdArgs(argv)).toThrow(message);
  });
});
