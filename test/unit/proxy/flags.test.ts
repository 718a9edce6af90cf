import { describe, expect, it } from 'vitest';
import { parseBindAddress, parseDaemonFlags, parseDuration } from '../../../proxy/flags.ts';

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
    expect(() => parseDaemonFlags(['--cluster-cidr=10.0.0.0/8', '--proxy-mode=ipvs'])).toThrow(/only "iptables" and "nftables"/);
  });

  it('names the flag in every error', () => {
    expect(() => parseDaemonFlags([])).toThrow('"--cluster-cidr" is required');
    expect(() => parseDaemonFlags(['--cluster-cidr=10.0.0.0/33'])).toThrow('"--cluster-cidr"');
    expect(() => parseDaemonFlags(['--cluster-cidr=10.0.0.0/8', '--sync-period=0s'])).toThrow('"--sync-period 0s"');
    expect(() => parseDaemonFlags(['--cluster-cidr=10.0.0.0/8', '--masquerade-bit=40'])).toThrow('masquerade bit');
    expect(() => parseDaemonFlags(['--cluster-cidr=10.0.0.0/8', '--nodeport-addresses=eth0'])).toThrow('entry "eth0"');
  });
});

describe('parseDuration and parseBindAddress', () => {
  it('reads Go durations and rejects anything else', () => {
    expect(parseDuration('1h', 'f')).toBe(3_600_000);
    expect(parseDuration('1.5s', 'f')).toBe(1500);
    expect(() => parseDuration('10', 'f')).toThrow('"--f"');
    expect(() => parseDuration('1s junk', 'f')).toThrow();
  });

  it('reads IPv4:PORT and rejects a missing port or a bad address', () => {
    expect(parseBindAddress('10.0.0.1:80', 'f')).toEqual({ host: '10.0.0.1', port: 80 });
    expect(() => parseBindAddress('10.0.0.1', 'f')).toThrow('IPv4:PORT');
    expect(() => parseBindAddress('10.0.0.300:80', 'f')).toThrow();
    expect(() => parseBindAddress('10.0.0.1:70000', 'f')).toThrow();
  });
});
