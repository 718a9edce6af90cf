import { describe, expect, it } from 'vitest';
import { parseIpJson } from '../../../lib/ip-json.ts';

describe('parseIpJson', () => {
  it('reads a link whose name holds a raw control character, as ip -json prints it, with the others', () => {
    const text = '[{"ifindex":1,"ifname":"lo"},{"ifindex":5,"ifname":"br\u0001x","ifalias":"a\u001fb"},{"ifindex":6,"ifname":"cni0"}]\n';
    const { entries, unreadable } = parseIpJson<{ ifname: string }>(text);
    expect(entries.map((e) => e.ifname)).toEqual(['lo', 'br\u0001x', 'cni0']);
    expect(unreadable).toEqual([]);
  });

  it('keeps every other entry when one cannot be parsed at all', () => {
    const text = '[{"ifname":"lo"},{"ifname": oops},{"ifname":"eth0","addr_info":[{"local":"10.0.0.1","prefixlen":24}]}]';
    const { entries, unreadable } = parseIpJson<{ ifname: string }>(text);
    expect(entries.map((e) => e.ifname)).toEqual(['lo', 'eth0']);
    expect(unreadable).toEqual(['{"ifname": oops}']);
  });

  it('reads empty output as no entries', () => {
    expect(parseIpJson('\n')).toEqual({ entries: [], unreadable: [] });
  });
});
