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
    ['a node name that is not a DNS subdomain', ['--kube-subnet-mgr', '--node-name=Node_A'], /"--node-name": must be a node name \(a lower-case DNS subdomain\), got "Node_A"/],
    ['both subnet managers', ['--kube-subnet-mgr', '--node-name=a', '--etcd-endpoints=http://a:1'], /cannot use etcd flags with "--kube-subnet-mgr"/],
    ['a kube flag without the kube subnet manager', ['--etcd-endpoints=http://a:1', '--node-name=a'], /"--node-name": it needs "--kube-subnet-mgr"/],
    ['a relative net-conf path', ['--kube-subnet-mgr', '--node-name=a', '--net-config-path=net-conf.json'], /"--net-config-path": must be an absolute path/],
    ['an endpoint that is not a URL', ['--etcd-endpoints=10.0.0.1:2379'], /"--etcd-endpoints": must be http\(s\):\/\/HOST\[:PORT\] URLs/],
    ['a healthz IP that is not an address', ['--etcd-endpoints=http://a:1', '--healthz-ip=localhost'], /"--healthz-ip": must be an IPv4 address, got "localhost"/],
    ['a bad public IP', ['--etcd-endpoints=http://a:1', '--public-ip=10.0.0'], /"--public-ip"/],
    ['a relative subnet file', ['--etcd-endpoints=http://a:1', '--subnet-file=run/x'], /"--subnet-file"/],
    ['an unknown flag', ['--etcd-endpoints=http://a:1', '--backend=udp'], /"--backend": unknown flag/],
  ])('rejects %s', (_, argv, message) => {
    expect(() => parseWeftdArgs(argv)).toThrow(message);
  });
});

describe('weftd flags are never silently misread', () => {
  const base = ['--etcd-endpoints=http://10.0.0.1:2379'];

  it.each(['1', 't', 'T', 'TRUE', 'true', 'True'])('--ip-masq=%s turns masquerade on', (value) => {
    expect(parseWeftdArgs([...base, `--ip-masq=${value}`]).ipMasq).toBe(true);
  });

  it.each(['0', 'f', 'F', 'FALSE', 'false', 'False'])('--ip-masq=%s turns masquerade off', (value) => {
    expect(parseWeftdArgs([...base, `--ip-masq=${value}`]).ipMasq).toBe(false);
  });

  it.each(['yes', 'no', 'on', 'TRue', ''])('--ip-masq=%j is an error, not a silent false', (value) => {
    expect(() => parseWeftdArgs([...base, `--ip-masq=${value}`])).toThrow('"--ip-masq"');
  });

  it('reads --kube-subnet-mgr=yes as an error, not as false', () => {
    expect(() => parseWeftdArgs(['--kube-subnet-mgr=yes', '--node-name=a'])).toThrow('cannot parse "--kube-subnet-mgr": must be true or false');
  });

  it.each([
    ['a port above 65535', 'http://10.0.0.1:99999'],
    ['port 0', 'http://10.0.0.1:0'],
    ['an empty host', 'http://:2379'],
    ['an empty port', 'http://10.0.0.1:'],
    ['a path', 'http://10.0.0.1:2379/v3'],
    ['another scheme', 'unix:///run/etcd.sock'],
  ])('refuses an etcd URL with %s at start instead of retrying it for ever', (_, url) => {
    expect(() => parseWeftdArgs([`--etcd-endpoints=${url}`])).toThrow('"--etcd-endpoints"');
  });

  it('refuses credentials in an etcd URL and never prints the password', () => {
    let message = '';
    try {
      parseWeftdArgs(['--etcd-endpoints=http://root:s3cret@10.0.0.1:2379']);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('"http://root:xxxxx@10.0.0.1:2379"');
    expect(message).not.toContain('s3cret');
  });

  it.each([
    ['a repeated flag', [...base, '--iface=eth0', '--iface=eth1'], '"--iface": given more than once'],
    ['a fractional renew interval', [...base, '--subnet-lease-renew-interval=1.5'], '"--subnet-lease-renew-interval": must be a decimal integer'],
    ['a hexadecimal port', [...base, '--healthz-port=0x1f90'], '"--healthz-port": must be a decimal integer from 1 to 65535, got "0x1f90"'],
    ['an unknown log level', [...base, '--log-level=verbose'], '"--log-level": must be one of'],
    ['an empty value', [...base, '--iface='], '"--iface": needs a value'],
    ['a single-dash flag', [...base, '-iface=eth0'], 'flags are written --name or --name=value'],
  ])('rejects %s naming the flag', (_, argv, message) => {
    expect(() => parseWeftdArgs(argv)).toThrow(message);
  });

  it('takes --name value as well as --name=value', () => {
    expect(parseWeftdArgs(['--etcd-endpoints', 'http://a:1', '--iface', 'eth0']).iface).toBe('eth0');
  });
});
