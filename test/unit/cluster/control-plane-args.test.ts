import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTROLLERS, apiserverArgs, controllerManagerArgs, etcdArgs } from '../../../lab/kube/control-plane-args.ts';
import { renderKubeconfig } from '../../../lab/kube/kubeconfig.ts';
import { leafCertArgs, subject, subjectAltName } from '../../../lab/kube/pki.ts';

const pair = (name: string) => ({ cert: `/p/${name}.crt`, key: `/p/${name}.key` });
const flag = (args: readonly string[], name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

describe('control plane command lines', () => {
  it('keeps every etcd listener on loopback', () => {
    const args = etcdArgs({ dataDir: '/d', clientPort: 2379, peerPort: 2380 });
    for (const name of ['listen-client-urls', 'listen-peer-urls', 'advertise-client-urls', 'initial-advertise-peer-urls']) {
      expect(flag(args, name)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    }
  });

  const apiserver = (address: string) =>
    apiserverArgs({ etcdUrl: 'http://127.0.0.1:1', address, port: 6443, ca: pair('ca'), serving: pair('s'), kubeletClient: pair('k'), serviceAccount: pair('sa') });

  it('binds the API server to its address with Node,RBAC authorization and the cluster service range', () => {
    const args = apiserver('127.0.0.1');
    expect(flag(args, 'bind-address')).toBe('127.0.0.1');
    expect(flag(args, 'secure-port')).toBe('6443');
    expect(flag(args, 'authorization-mode')).toBe('Node,RBAC');
    expect(flag(args, 'service-cluster-ip-range')).toBe('10.96.0.0/16');
    expect(flag(args, 'client-ca-file')).toBe('/p/ca.crt');
    expect(args.some((a) => a.includes('undefined'))).toBe(false);
  });

  it('publishes the kubernetes endpoint only for a non-loopback address', () => {
    expect(flag(apiserver('127.0.0.1'), 'endpoint-reconciler-type')).toBe('none');
    expect(flag(apiserver('10.99.0.1'), 'endpoint-reconciler-type')).toBeUndefined();
    expect(flag(apiserver('10.99.0.1'), 'advertise-address')).toBe('10.99.0.1');
  });

  it('runs the controller manager without a listener, allocating node CIDRs, with the node lifecycle controller off', () => {
    const args = controllerManagerArgs({ kubeconfig: '/k', ca: pair('ca'), serviceAccount: pair('sa') });
    expect(flag(args, 'secure-port')).toBe('0');
    expect(flag(args, 'leader-elect')).toBe('false');
    expect(flag(args, 'allocate-node-cidrs')).toBe('true');
    expect(flag(args, 'cluster-cidr')).toBe('10.244.0.0/16');
    expect(flag(args, 'controllers')).toBe(DEFAULT_CONTROLLERS.join(','));
    expect(flag(controllerManagerArgs({ kubeconfig: '/k', ca: pair('ca'), serviceAccount: pair('sa'), controllers: ['*'] }), 'controllers')).toBe('*');
  });
});

describe('test PKI', () => {
  it('builds subjects with an organization and rejects values openssl would split', () => {
    expect(subject('system:node:n1', 'system:nodes')).toBe('/CN=system:node:n1/O=system:nodes');
    expect(() => subject('a/O=system:masters')).toThrow(/openssl would split/);
  });

  it('marks IP and DNS alternative names', () => {
    expect(subjectAltName(['127.0.0.1', 'localhost'])).toBe('IP:127.0.0.1,DNS:localhost');
  });

  it('issues leaves as non-CA certificates for exactly one usage', () => {
    const args = leafCertArgs('/p/cnf', pair('ca'), { name: 'admin', commonName: 'admin', organization: 'system:masters', usage: 'client' }, pair('admin'));
    expect(args).toContain('basicConstraints=critical,CA:FALSE');
    expect(args).toContain('extendedKeyUsage=clientAuth');
    expect(args.some((a) => a.startsWith('subjectAltName='))).toBe(false);
  });
});

describe('kubeconfig', () => {
  it('points one context at the server with file-based credentials', () => {
    const config = JSON.parse(renderKubeconfig({ server: 'https://127.0.0.1:6443', caFile: '/p/ca.crt', user: 'admin', credentials: pair('admin') }));
    expect(config['current-context']).toBe('weft-test');
    expect(config.clusters[0].cluster).toEqual({ server: 'https://127.0.0.1:6443', 'certificate-authority': '/p/ca.crt' });
    expect(config.users[0].user).toEqual({ 'client-certificate': '/p/admin.crt', 'client-key': '/p/admin.key' });
  });
});
