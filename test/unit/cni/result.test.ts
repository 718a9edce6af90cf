import { describe, expect, it } from 'vitest';
import { parseResult, renderResult } from '../../../plugins/cni/result.ts';
import { parseCniArgs } from '../../../plugins/cni/request.ts';

describe('result conversion', () => {
  it('reads a 0.4.0 result and renders it as 1.1.0 without the per-IP version', () => {
    const parsed = parseResult({
      cniVersion: '0.4.0',
      interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/var/run/netns/x' }],
      ips: [{ version: '4', address: '10.0.0.2/24', gateway: '10.0.0.1', interface: 0 }],
      dns: {},
    });
    expect(renderResult(parsed, '1.1.0')).toEqual({
      cniVersion: '1.1.0',
      interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/var/run/netns/x' }],
      ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1', interface: 0 }],
      dns: {},
    });
  });

  it('tags IPv6 addresses with version 6 in 0.3.x results', () => {
    const rendered = renderResult({ cniVersion: '1.1.0', ips: [{ address: 'fd00::2/64' }] }, '0.3.1');
    expect(rendered.ips).toEqual([{ version: '6', address: 'fd00::2/64' }]);
  });

  it('refuses results older than 0.3.0', () => {
    expect(() => parseResult({ cniVersion: '0.2.0', ip4: { ip: '10.0.0.2/24' } })).toThrow(/0.3.0 or later/);
  });
});

describe('CNI_ARGS', () => {
  it('splits KEY=VALUE pairs, keeping "=" inside values', () => {
    expect([...parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=web;X=a=b')]).toEqual([
      ['IgnoreUnknown', '1'],
      ['K8S_POD_NAME', 'web'],
      ['X', 'a=b'],
    ]);
  });
  it('rejects a pair without "="', () => {
    expect(() => parseCniArgs('oops')).toThrow(/KEY=VALUE/);
  });
});
