import { describe, expect, it } from 'vitest';
import { parseWeftdArgs } from '../../../plugins/vxlan/weftd-args.ts';
import { parseDaemonFlags } from '../../../proxy/flags.ts';
import { parseRenderArgs } from '../../../proxy/render-command.ts';
import { booleanModel, generateFlagCase, integerModel, type CommandModel, type FlagModel } from '../../fuzz/flag-corpus.ts';
import { fuzzSeed } from '../../fuzz/random.ts';

// Every flag of weftd, weft-proxy and weft-proxy render, fuzzed: a valid value must come out as
// meant, and an invalid, empty or repeated one must be an error naming the flag (never a default,
// never a crash). Reproduce a failure with WEFT_FUZZ_SEED=<seed>.

const SEED = fuzzSeed(20261201);
const CASES = 3_000;

const valuesOf = (name: string, valid: [string, unknown][], invalid: string[], read: (p: any) => unknown, extra: Partial<FlagModel> = {}): FlagModel => ({ name, valid, invalid, read, ...extra });
const ADDRESSES: [string, unknown][] = [['10.0.0.5', '10.0.0.5'], ['192.168.1.254', '192.168.1.254']];
const NOT_ADDRESSES = ['10.0.0', '10.0.0.256', '::1', 'localhost', '010.0.0.1', '10.0.0.1/24', ' 10.0.0.1'];
const PATHS: [string, unknown][] = [['/run/x.env', '/run/x.env'], ['/var/lib/a..b', '/var/lib/a..b']];
const NOT_PATHS = ['relative', '/a/../b', './x', '../x'];
const CIDRS: [string, unknown][] = [['10.244.0.0/16', '10.244.0.0/16'], ['10.0.0.0/8', '10.0.0.0/8']];
const NOT_CIDRS = ['10.0.0.0', '10.0.0.0/33', 'fd00::/64', 'x/8', '10.0.0.0/-1'];

const weftdEtcd: CommandModel = {
  command: 'weftd (etcd)',
  base: ['--etcd-endpoints=http://10.0.0.1:2379', '--iface=eth0'],
  parse: (argv) => parseWeftdArgs(argv),
  flags: [
    valuesOf('etcd-endpoints', [['http://10.0.0.1:2379', ['http://10.0.0.1:2379']], ['https://etcd.example:2379,http://[fd00::1]:2379', ['https://etcd.example:2379', 'http://[fd00::1]:2379']]], ['http://10.0.0.1:99999', 'http://:2379', 'http://u:p@h:1', '10.0.0.1:2379', 'http://h:1/v3', 'ftp://h:1', 'http://h:0', 'http://h:', 'http://a:1,'], (p) => p.subnetManager.endpoints),
    valuesOf('etcd-prefix', [['/coreos.com/network', '/coreos.com/network'], ['/x', '/x']], ['x', '/a b', '/a\nb'], (p) => p.subnetManager.prefix),
    valuesOf('iface', [['eth0', 'eth0'], ['weft.1', 'weft.1']], ['a b', "'eth0'", 'a'.repeat(16), 'eth%d', 'a/b'], (p) => p.iface),
    valuesOf('public-ip', ADDRESSES, NOT_ADDRESSES, (p) => p.publicIp),
    valuesOf('subnet-file', PATHS, NOT_PATHS, (p) => p.subnetFile),
    booleanModel('ip-masq', (p) => p.ipMasq),
    valuesOf('healthz-ip', ADDRESSES, NOT_ADDRESSES, (p) => p.healthzIp),
    integerModel('healthz-port', { min: 1, max: 65_535 }, (p) => p.healthzPort),
    integerModel('subnet-lease-renew-interval', { min: 1, max: 43_200 }, (p) => p.renewIntervalMs, 1000),
    valuesOf('log-level', [['debug', 'debug'], ['error', 'error']], ['verbose', 'INFO', '0'], (p) => p.logLevel),
  ],
};

const weftdKube: CommandModel = {
  command: 'weftd (kube)',
  base: ['--kube-subnet-mgr', '--node-name=node-1', '--iface=eth0'],
  parse: (argv) => parseWeftdArgs(argv),
  flags: [
    valuesOf('kube-subnet-mgr', [['true', 'kube'], ['1', 'kube'], ['T', 'kube']], ['yes', 'on', 'Y'], (p) => p.subnetManager.kind, { boolean: true }),
    valuesOf('node-name', [['node-1', 'node-1'], ['a.b-c', 'a.b-c']], ['Node_A', 'a/x', '-a', 'a'.repeat(254)], (p) => p.subnetManager.nodeName),
    valuesOf('kubeconfig-file', PATHS, NOT_PATHS, (p) => p.subnetManager.kubeconfigFile),
    valuesOf('net-config-path', PATHS, NOT_PATHS, (p) => p.subnetManager.netConfigPath),
  ],
};

const proxyDaemon: CommandModel = {
  command: 'weft-proxy',
  base: ['--cluster-cidr=10.244.0.0/16', '--hostname-override=node-1'],
  parse: (argv) => parseDaemonFlags(argv, 'machine'),
  flags: [
    valuesOf('cluster-cidr', CIDRS, NOT_CIDRS, (p) => p.clusterCidr),
    valuesOf('kubeconfig', [['/etc/kubeconfig', '/etc/kubeconfig']], [], (p) => p.kubeconfig, { empty: { expected: '' } }),
    valuesOf('hostname-override', [['node-1', 'node-1'], ['Node-A', 'node-a']], ['Bad_Name/x', 'a b', 'node\n1', '-x'], (p) => p.hostname),
    valuesOf('proxy-mode', [['iptables', 'iptables'], ['nftables', 'nftables']], ['ipvs', 'IPTABLES', 'userspace'], (p) => p.proxyMode),
    valuesOf('min-sync-period', [['0', 0], ['500ms', 500], ['1s', 1000]], ['10', '1', '-1s', '1d', 's', '1.s5'], (p) => p.minSyncPeriodMs),
    valuesOf('sync-period', [['1h', 3_600_000], ['1m30s', 90_000], ['30s', 30_000]], ['0', '0s', '10', '1y', '25h'], (p) => p.syncPeriodMs),
    integerModel('masquerade-bit', { min: 0, max: 31 }, (p) => Math.log2(p.masqueradeMark)),
    valuesOf('healthz-bind-address', [['0.0.0.0:10256', { host: '0.0.0.0', port: 10256 }], ['127.0.0.1:1', { host: '127.0.0.1', port: 1 }]], ['10.0.0.1', '10.0.0.1:0', '10.0.0.1:70000', ':10256', 'localhost:1', '[::1]:1'], (p) => p.healthz, { empty: { expected: undefined } }),
    valuesOf('metrics-bind-address', [['127.0.0.1:10249', { host: '127.0.0.1', port: 10249 }]], ['10.0.0.1', '10.0.0.1:0x10', 'x:1'], (p) => p.metrics, { empty: { expected: undefined } }),
    valuesOf('nodeport-addresses', [['10.1.0.0/16,primary', ['10.1.0.0/16', 'primary']], ['primary', ['primary']]], ['eth0', '10.1.0.0/16,', 'fd00::/64'], (p) => p.nodePortAddresses, { empty: { expected: [] } }),
  ],
};

const render: CommandModel = {
  command: 'weft-proxy render',
  base: ['--hostname-override=node-1', '--cluster-cidr=10.244.0.0/16', '--objects=/tmp/objects.yaml'],
  parse: (argv) => parseRenderArgs([...argv]),
  flags: [
    valuesOf('hostname-override', [['node-1', 'node-1'], ['N1', 'n1']], ['Bad_Name/x', 'a b'], (p) => p.config.hostname),
    valuesOf('cluster-cidr', CIDRS, NOT_CIDRS, (p) => p.config.clusterCidr),
    valuesOf('objects', [['/tmp/o.yaml', '/tmp/o.yaml'], ['-', '-']], [], (p) => p.objects),
    valuesOf('node-ip', ADDRESSES, NOT_ADDRESSES, (p) => p.nodeIP),
    integerModel('masquerade-bit', { min: 0, max: 31 }, (p) => Math.log2(p.config.masqueradeMark)),
    valuesOf('proxy-mode', [['nftables', 'nftables']], ['ipvs'], (p) => p.mode),
    valuesOf('nodeport-addresses', [['10.1.0.0/16', ['10.1.0.0/16']]], ['eth0'], (p) => p.nodePortAddresses, { empty: { expected: [] } }),
  ],
};

describe.each([weftdEtcd, weftdKube, proxyDaemon, render])('$command flags, fuzzed', (model) => {
  it(`reads ${CASES} generated command lines (seed ${SEED}): valid values as meant, anything else an error naming the flag`, () => {
    const failures: string[] = [];
    for (let index = 0; index < CASES; index++) {
      const c = generateFlagCase(model, SEED, index);
      let parsed: unknown;
      let error: Error | undefined;
      try {
        parsed = model.parse(c.argv);
      } catch (thrown) {
        error = thrown as Error;
      }
      const line = `case ${index} ${JSON.stringify(c.argv)}`;
      if (c.kind === 'valid') {
        if (error) failures.push(`${line}: refused a valid value: ${error.message}`);
        else if (JSON.stringify(c.flag.read(parsed)) !== JSON.stringify(c.expected)) failures.push(`${line}: read ${JSON.stringify(c.flag.read(parsed))}, meant ${JSON.stringify(c.expected)}`);
      } else if (!error) failures.push(`${line}: took ${c.why}`);
      else if (!['FlagError', 'UsageError'].includes(error.name)) failures.push(`${line}: threw ${error.name}: ${error.message}`);
      else if (!error.message.includes(`"--${c.flag.name}"`)) failures.push(`${line}: the error does not name "--${c.flag.name}": ${error.message}`);
    }
    expect(failures.slice(0, 20), `seed ${SEED}: reproduce with WEFT_FUZZ_SEED=${SEED}`).toEqual([]);
  });
});
