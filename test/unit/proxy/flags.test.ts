import { describe, expect, it } from 'vitest';
import { parseDaemonFlags } from '../../../proxy/flags.ts';

describe('parseDaemonFlags', () => {
  it('applies kube-proxy defaults: healthz on 0.0.0.0:10256, metrics on 127.0.0.1:10249, 1 s / 1 h periods', () => {
    expect(parseDaemonFlags(['--cluster-cidr=10.244.0.0/16'], 'Node-A')).toEqual({
      proxyMode: 'iptables',
      kubeconfig: '',
      hostname: 'node-a',
      clusterCidr: '10.244.0.0/16',
      masqueradeMark: 0x4000,
      minSyncPeriodMs: 1000,
      syncPeriodMs: 3_600_000,
      healthz: { host: '0.0.0.0', port: 10256 },
      metrics: { host: '127.0.0.1', port: 10249 },
      nodePortAddresses: [],
    });
  });

  it('disables a listener given an empty bind address', () => {
    const flags = parseDaemonFlags(['--cluster-cidr=10.244.0.0/16', '--healthz-bind-address=', '--metrics-bind-address', ''], 'n');
    expect(flags.healthz).toBeUndefined();
    expect(flags.metrics).toBeUndefined();
  });

  it('reads every flag', () => {
    const flags = parseDaemonFlags(
      ['--kubeconfig', '/k', '--hostname-override', 'n1', '--cluster-cidr', '10.0.0.0/8', '--masquerade-bit', '5', '--min-sync-period', '250ms', '--sync-period', '1m30s', '--nodeport-addresses', '10.1.0.0/16,primary'],
      'x',
    );
    expect(flags).toMatchObject({ kubeconfig: '/k', hostname: 'n1', masqueradeMark: 32, minSyncPeriodMs: 250, syncPeriodMs: 90_000, nodePortAddresses: ['10.1.0.0/16', 'primary'] });
  });

  it('accepts nftables mode and refuses unknown modes', () => {
    expect(parseDaemonFlags(['--cluster-cidr=10.0.0.0/8', '--proxy-mode=nftables']).proxyMode).toBe('nftables');
    expect(() => parseDaemonFlags(['--cluster-cidr=10.0.0.0/8', '--proxy-mode=ipvs'])).toThrow('"--proxy-mode": must be one of "iptables", "nftables", got "ipvs"');
  });

  it('names the flag in every error', () => {
    expect(() => parseDaemonFlags([])).toThrow('"--cluster-cidr" is required');
    expect(() => parseDaemonFlags(['--cluster-cidr=10.0.0.0/33'])).toThrow('"--cluster-cidr"');
    expect(() => parseDaemonFlags(['--cluster-cidr=10.0.0.0/8', '--sync-period=0s'])).toThrow('"--sync-period": must be a duration');
    expect(() => parseDaemonFlags(['--cluster-cidr=10.0.0.0/8', '--masquerade-bit=40'])).toThrow('"--masquerade-bit": must be a decimal integer from 0 to 31, got "40"');
    expect(() => parseDaemonFlags(['--cluster-cidr=10.0.0.0/8', '--nodeport-addresses=eth0'])).toThrow('"--nodeport-addresses"');
    expect(() => parseDaemonFlags(['--cluster-cidr=10.0.0.0/8', '--healthz-bind-address=10.0.0.1'])).toThrow('"--healthz-bind-address": must be IPv4:PORT');
    expect(() => parseDaemonFlags(['--cluster-cidr=10.0.0.0/8', '--metrics-bind-address=10.0.0.1:70000'])).toThrow('"--metrics-bind-address"');
  });
});

describe('weft-proxy flags are never silently misread', () => {
  const base = ['--cluster-cidr=10.244.0.0/16'];

  it('refuses an empty --masquerade-bit instead of reading it as bit 0', () => {
    expect(() => parseDaemonFlags([...base, '--masquerade-bit='], 'n')).toThrow('"--masquerade-bit": needs a value');
  });

  it.each(['0x0e', '1e1', '014', '+14', ' 14', '14 ', '14.0'])('refuses --masquerade-bit=%j: only decimal integers are numbers', (value) => {
    expect(() => parseDaemonFlags([...base, `--masquerade-bit=${value}`], 'n')).toThrow('"--masquerade-bit": must be a decimal integer');
  });

  it('refuses a --hostname-override that is not a node name instead of lower-casing it into one', () => {
    expect(() => parseDaemonFlags([...base, '--hostname-override=Bad_Name/x'], 'n')).toThrow('cannot use "--hostname-override" "Bad_Name/x"');
    expect(parseDaemonFlags([...base, '--hostname-override=Node-A'], 'n').hostname).toBe('node-a');
  });

  it('refuses a machine hostname that is not a node name when no override is given', () => {
    expect(() => parseDaemonFlags(base, 'bad_host')).toThrow("cannot use the machine's hostname");
  });

  it('refuses a repeated flag instead of letting the last one win', () => {
    expect(() => parseDaemonFlags([...base, '--proxy-mode=nftables', '--proxy-mode=iptables'], 'n')).toThrow('"--proxy-mode": given more than once');
  });

  it('refuses --min-sync-period above --sync-period', () => {
    expect(() => parseDaemonFlags([...base, '--min-sync-period=2m', '--sync-period=1m'], 'n')).toThrow('"--min-sync-period" 120000 ms: it is longer than "--sync-period" 60000 ms');
    expect(parseDaemonFlags([...base, '--min-sync-period=1m', '--sync-period=1m'], 'n').minSyncPeriodMs).toBe(60_000);
  });

  it('reads Go durations, "0" included, and refuses bare numbers', () => {
    expect(parseDaemonFlags([...base, '--min-sync-period=0', '--sync-period=1h30m'], 'n')).toMatchObject({ minSyncPeriodMs: 0, syncPeriodMs: 5_400_000 });
    expect(() => parseDaemonFlags([...base, '--sync-period=10'], 'n')).toThrow('"--sync-period"');
  });
});
