import { describe, expect, it } from 'vitest';
import { NetnsScope } from '../../../lab/netns.ts';
import type { OverlayNode } from '../../../lab/node.ts';
import { nodeConfList, pluginConfig, vxlanConf } from '../../../lab/pod.ts';
import type { LabSettings } from '../../../lab/underlay.ts';

function node(settings: Partial<LabSettings> = {}): OverlayNode {
  const lab: LabSettings = { id: 'abc', scope: new NetnsScope('x-'), workDir: '/tmp/w', weftd: ['weftd'], cniBinDir: '/bin', ...settings };
  return { index: 1, underlay: { settings: lab } as OverlayNode['underlay'], ns: {} as OverlayNode['ns'], ip: '172.30.1.1', dir: '/tmp/w/node1', subnetFile: '/tmp/w/node1/run/subnet.env' };
}

describe('a lab node network config list', () => {
  it('is weft-vxlan at cniVersion 1.1.0 with every state path inside the node directory', () => {
    expect(nodeConfList(node())).toEqual({
      cniVersion: '1.1.0',
      name: 'weft-abc',
      plugins: [{ type: 'weft-vxlan', subnetFile: '/tmp/w/node1/run/subnet.env', dataDir: '/tmp/w/node1/cni', delegate: { ipam: { dataDir: '/tmp/w/node1/ipam' } } }],
    });
  });

  it('keeps a delegate override (the reference plugins) while pinning the IPAM directory', () => {
    const list = nodeConfList(node({ delegate: { type: 'bridge', ipam: { type: 'host-local' } }, cniVersion: '1.0.0' }));
    expect(list.cniVersion).toBe('1.0.0');
    expect(list.plugins[0]!.delegate).toEqual({ type: 'bridge', ipam: { type: 'host-local', dataDir: '/tmp/w/node1/ipam' } });
  });

  it('gives each plugin the list name and version, and the previous result when there is one', () => {
    const list = { cniVersion: '1.1.0', name: 'n', plugins: [{ type: 'a', cniVersion: '0.3.1' }, { type: 'b' }] };
    expect(pluginConfig(list, 0)).toEqual({ type: 'a', cniVersion: '1.1.0', name: 'n' });
    expect(pluginConfig(list, 1, { ips: [] })).toEqual({ type: 'b', cniVersion: '1.1.0', name: 'n', prevResult: { ips: [] } });
    expect(() => pluginConfig(list, 2)).toThrow('cannot build plugin config: the list "n" has no plugin 2');
  });

  it('passes weft-vxlan the first plugin of the list as the runtime would', () => {
    expect(vxlanConf(node())).toMatchObject({ type: 'weft-vxlan', name: 'weft-abc', cniVersion: '1.1.0' });
  });
});
