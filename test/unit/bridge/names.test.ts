import { describe, expect, it } from 'vitest';
import { attachmentTag, bridgeMac, hostVethMac, hostVethName, masqChainName, parseAttachmentTag, podMac } from '../../../plugins/bridge/names.ts';

const a = { containerId: 'abc123', ifname: 'eth0' };

describe('names', () => {
  it('derives a 15-character host veth name that depends on container ID and interface name', () => {
    const name = hostVethName(a);
    expect(name).toMatch(/^weft[0-9a-f]{11}$/);
    expect(name).toHaveLength(15);
    expect(hostVethName(a)).toBe(name);
    expect(hostVethName({ ...a, ifname: 'net1' })).not.toBe(name);
    expect(hostVethName({ ...a, containerId: 'abc124' })).not.toBe(name);
  });

  it('derives locally administered unicast MACs, different for bridge, host end and pod end', () => {
    const macs = [bridgeMac('cni0'), hostVethMac(a), podMac(a)];
    for (const mac of macs) {
      expect(mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      expect(parseInt(mac.slice(0, 2), 16) & 0b11).toBe(0b10);
    }
    expect(new Set(macs).size).toBe(3);
  });

  it('keeps masquerade chain names within the 28-character iptables limit', () => {
    const chain = masqChainName('net', { containerId: 'x'.repeat(64), ifname: 'eth0' });
    expect(chain).toMatch(/^WEFT-MASQ-[0-9A-F]{16}$/);
    expect(chain.length).toBeLessThanOrEqual(28);
  });

  it('round-trips the attachment tag and rejects foreign ones', () => {
    expect(parseAttachmentTag(attachmentTag('net', a))).toEqual({ network: 'net', attachment: a });
    expect(parseAttachmentTag('name: "net" id: "abc123"')).toBeUndefined();
  });
});
