import { describe, expect, it } from 'vitest';
import { CniError, toCniError } from '../../../plugins/cni/errors.ts';
import type { Request } from '../../../plugins/cni/request.ts';
import type { NetConf } from '../../../plugins/cni/types.ts';
import { parseBridgeConfig } from '../../../plugins/bridge/config.ts';

const request = (args: Record<string, string> = {}): Request => ({
  command: 'ADD',
  containerId: 'c1',
  ifname: 'eth0',
  netns: '/var/run/netns/p',
  args: new Map(Object.entries(args)),
  path: ['/opt/cni/bin'],
  depth: 0,
});

const conf = (extra: Record<string, unknown>): NetConf => ({ cniVersion: '1.1.0', name: 'net', type: 'weft-bridge', ...extra });

function invalid(extra: Record<string, unknown>, args?: Record<string, string>): CniError {
  try {
    parseBridgeConfig(conf(extra), request(args));
  } catch (error) {
    // The skeleton turns a field's error into code 7, as it does here.
    return toCniError(error, 5, 'read the config');
  }
  throw new Error('config was accepted');
}

describe('parseBridgeConfig', () => {
  it('applies the reference defaults: bridge cni0, no gateway, no masquerade, no MTU change', () => {
    const config = parseBridgeConfig(conf({ ipam: { type: 'host-local' } }), request());
    expect(config).toEqual({
      name: 'net', bridge: 'cni0', isGateway: false, isDefaultGateway: false, forceAddress: false, ipMasq: false,
      hairpinMode: false, promiscMode: false, vlan: 0, macspoofchk: false, ipamType: 'host-local',
    });
  });

  it('refuses a non-boolean isGateway even when isDefaultGateway makes it true (found by the fuzz suite, seed 20261201 case 2022)', () => {
    expect(invalid({ isDefaultGateway: true, isGateway: 'true' }).message).toBe('invalid config: "isGateway" must be true or false, got "true"');
  });

  it('makes isDefaultGateway imply isGateway', () => {
    expect(parseBridgeConfig(conf({ isDefaultGateway: true }), request()).isGateway).toBe(true);
  });

  it('treats a missing ipam type as a layer-2-only network', () => {
    expect(parseBridgeConfig(conf({ ipam: {} }), request()).ipamType).toBeUndefined();
  });

  it.each([
    [{ bridge: 'a-name-longer-than-15' }, 'bridge'],
    [{ bridge: 'a/b' }, 'bridge'],
    [{ isGateway: 'yes' }, 'isGateway'],
    [{ ipMasq: 1 }, 'ipMasq'],
    [{ mtu: 40 }, 'mtu'],
    [{ mtu: 1500.5 }, 'mtu'],
    [{ vlan: 4095 }, 'vlan'],
    [{ hairpinMode: true, promiscMode: true }, 'promiscMode'],
    [{ ipam: 'host-local' }, 'ipam'],
    [{ ipam: { type: 7 } }, 'ipam.type'],
    [{ runtimeConfig: { mac: 'zz:00:00:00:00:01' } }, 'runtimeConfig.mac'],
    [{ runtimeConfig: { mac: '01:00:00:00:00:01' } }, 'runtimeConfig.mac'],
  ])('rejects %j with code 7 naming "%s"', (extra, field) => {
    const error = invalid(extra);
    expect(error).toBeInstanceOf(CniError);
    expect(error.code).toBe(7);
    expect(error.message).toContain(`"${field}"`);
  });

  it('takes the MAC from runtimeConfig before CNI_ARGS, lower-cased', () => {
    expect(parseBridgeConfig(conf({ runtimeConfig: { mac: '0A:00:00:00:00:01' } }), request({ MAC: '0a:00:00:00:00:02' })).mac).toBe('0a:00:00:00:00:01');
    expect(parseBridgeConfig(conf({}), request({ MAC: '0a:00:00:00:00:02' })).mac).toBe('0a:00:00:00:00:02');
  });

  it('refuses a malformed CNI_ARGS MAC even when runtimeConfig.mac wins (found by the fuzz suite, seed 2 case 3911)', () => {
    expect(invalid({ runtimeConfig: { mac: '0a:00:00:00:00:01' } }, { MAC: '01:00:00:00:00:01' }).message).toContain('"CNI_ARGS MAC" must be a unicast MAC address');
  });

  it('rejects a malformed CNI_ARGS MAC with code 7', () => {
    expect(invalid({}, { MAC: 'nope' }).message).toContain('"CNI_ARGS MAC"');
  });
});
