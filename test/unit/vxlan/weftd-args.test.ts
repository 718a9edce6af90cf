import { describe, expect, it } from 'vitest';
import { parseWeftdArgs } from '../../../plugins/vxlan/weftd-args.ts';

describe('parseWeftdArgs', () => {
  it('reads flannel-style flags with defaults for prefix, subnet file and renew interval', () => {
    expect(parseWeftdArgs(['--etcd-endpoints=http://10.0.0.1:2379,http://10.0.0.2:2379', '--iface=eth0', '--ip-masq', '--healthz-port=8471'])).toEqual({
      subnetManager: { kind: 'etcd', endpoints: ['http://10.0.0.1:2379', 'http://10.0.0.2:2379'], prefix: '/coreos.com/network' },
      iface: 'eth0',
      subnetFile: '/run/weft/subnet.env',
      ipMasq: true,
      healthzIp: '127.0.0.1',
      healthzPort: 8471,
      renewIntervalMs: 3_600_000,
    });
  });

  it('chooses the kube subnet manager with the node name from NODE_NAME and the default net-conf path', () => {
    expect(parseWeftdArgs(['--kube-subnet-mgr', '--iface=eth0'], { env: { NODE_NAME: 'node-a' } }).subnetManager).toEqual({ kind: 'kube', nodeName: 'node-a', netConfigPath: '/etc/weft/net-conf.json' });
  });

  it('lets --node-name, --kubeconfig-file and --net-config-path override the kube defaults', () => {
    const args = parseWeftdArgs(['--kube-subnet-mgr', '--node-name=node-b', '--kubeconfig-file=/etc/weft/kubeconfig', '--net-config-path=/run/net-conf.json'], { env: { NODE_NAME: 'node-a' } });
    expect(args.subnetManager).toEqual({ kind: 'kube', nodeName: 'node-b', kubeconfigFile: '/etc/weft/kubeconfig', netConfigPath: '/run/net-conf.json' });
  });

  it('binds the health check where --healthz-ip says', () => {
    expect(parseWeftdArgs(['--etcd-endpoints=http://a:1', '--healthz-ip=10.0.0.5', '--healthz-port=8471']).healthzIp).toBe('10.0.0.5');
  });

  it.each([
    ['no subnet manager', ['--iface=eth0'], /"--etcd-endpoints" or "--kube-subnet-mgr" is required/],
    ['the kube subnet manager without a node name', ['--kube-subnet-mgr'], /set NODE_NAME or "--node-name"/],
    ['a node name that is not a DNS subdomain', ['--kube-subnet-mgr', '--node-name=Node_A'], /node name "Node_A" is not a valid Node name/],
    ['both subnet managers', ['--kube-subnet-mgr', '--node-name=a', '--etcd-endpoints=http://a:1'], /takes no etcd flags/],
    ['a kube flag without the kube subnet manager', ['--etcd-endpoints=http://a:1', '--node-name=a'], /"--node-name" needs "--kube-subnet-mgr"/],
    ['a relative net-conf path', ['--kube-subnet-mgr', '--node-name=a', '--net-config-path=net-conf.json'], /"--net-config-path" must be an absolute path/],
    ['an endpoint that is not a URL', ['--etcd-endpoints=10.0.0.1:2379'], /not an http/],
    ['a healthz IP that is not an address', ['--etcd-endpoints=http://a:1', '--healthz-ip=localhost'], /"--healthz-ip" is not an IPv4 address: "localhost"/],
    ['a bad public IP', ['--etcd-endpoints=http://a:1', '--public-ip=10.0.0'], /"--public-ip"/],
    ['a relative subnet file', ['--etcd-endpoints=http://a:1', '--subnet-file=run/x'], /"--subnet-file"/],
    ['an unknown flag', ['--etcd-endpoints=http://a:1', '--backend=udp'], /unknown flag "--backend"/],
  ])('rejects %s', (_, argv, message) => {
    expect(() => parseWeftdArgs(argv)).toThrow(message);
  });
});
