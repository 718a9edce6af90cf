import { describe, expect, it } from 'vitest';
import { ipamStores, parseConfList, pickConfFile, requiredPlugins, subnetFileOf } from '../../../troubleshoot/state/cni-conflist.ts';

const WEFT = JSON.stringify({ cniVersion: '1.1.0', name: 'weft', plugins: [{ type: 'weft-vxlan', subnetFile: '/run/weft/subnet.env', delegate: { hairpinMode: true } }, { type: 'portmap' }] });

describe('the CNI config the runtime picks', () => {
  it('is the first .conf, .conflist or .json by name', () => {
    expect(pickConfFile(['99-other.conflist', 'README', '10-weft.conflist', '05-old.conf.bak'])).toBe('10-weft.conflist');
    expect(pickConfFile(['README'])).toBeUndefined();
  });

  it('names every plugin the runtime will run, weft-vxlan\'s delegate and IPAM included', () => {
    const list = parseConfList(WEFT, '/etc/cni/net.d/10-weft.conflist');
    expect(requiredPlugins(list).sort()).toEqual(['portmap', 'weft-bridge', 'weft-host-local', 'weft-vxlan']);
    expect(ipamStores(list)).toEqual([{ dataDir: '/var/lib/cni/networks', network: 'weft' }]);
    expect(subnetFileOf(list)).toBe('/run/weft/subnet.env');
  });

  it('reads a single-plugin .conf as a list of one, with its own IPAM store', () => {
    const list = parseConfList(JSON.stringify({ cniVersion: '0.3.1', name: 'net', type: 'bridge', ipam: { type: 'host-local', dataDir: '/var/lib/x' } }), '/x/net.conf');
    expect(requiredPlugins(list).sort()).toEqual(['bridge', 'host-local']);
    expect(ipamStores(list)).toEqual([{ dataDir: '/var/lib/x', network: 'net' }]);
  });

  it('says what is wrong with a config it cannot use', () => {
    expect(() => parseConfList('{', '/x/a.conflist')).toThrow('cannot use CNI config "/x/a.conflist": not JSON');
    expect(() => parseConfList('{"cniVersion":"1.0.0","name":"n","plugins":[]}', '/x/a.conflist')).toThrow('"plugins" is missing or empty');
    expect(() => parseConfList('{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"../x"}]}', '/x/a.conflist')).toThrow('plugin 0 has no usable "type"');
  });
});
