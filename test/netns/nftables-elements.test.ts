import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitBatches, NetfilterSocket } from '../../lib/netlink/netfilter-socket.ts';
import { elementLayout, encodeElementBatches, type SetElements } from '../../lib/netlink/nftables-elements.ts';
import { NetlinkError } from '../../lib/netlink/socket.ts';
import { NetnsScope, type Netns } from '../support/netns.ts';

// Set elements sent as nf_tables netlink batches by weft's encoder, against nft's own load of the
// same `add element` lines: both namespaces must list the same table, comments included.

const MAPS = [
  { name: 'svcs-tcp-3', spec: 'typeof ip daddr . th dport : th dport;' },
  { name: 'eps-tcp-3', spec: 'typeof ip daddr . th dport . numgen random mod 3 : ip daddr;' },
  { name: 'nodeports-tcp-3', spec: 'typeof th dport : th dport;' },
  { name: 'nodeport-eps-tcp-3', spec: 'typeof th dport . numgen random mod 3 : ip daddr;' },
];
const HAIRPIN = { name: 'hairpin', spec: 'typeof ip saddr . ip daddr;' };
const SERVICES = 3000;

const ip = (a: number, i: number) => `10.${a}.${i >> 8}.${i & 255}`;

function elements(): Record<string, string[]> {
  const range = Array.from({ length: SERVICES }, (_, i) => i);
  const picks = (i: number) => [0, 1, 2].map((k) => ({ k, ep: ip(244, i * 3 + k) }));
  return {
    'svcs-tcp-3': range.map((i) => `${ip(96, i)} . 80 comment "ns-${i % 7}/service-${i}:http" : ${8000 + (i % 100)}`),
    'eps-tcp-3': range.flatMap((i) => picks(i).map(({ k, ep }) => `${ip(96, i)} . 80 . ${k} : ${ep}`)),
    'nodeports-tcp-3': range.slice(0, 2000).map((i) => `${30000 + i} comment "ns-${i % 7}/service-${i}:http" : ${8000 + (i % 100)}`),
    'nodeport-eps-tcp-3': range.slice(0, 2000).flatMap((i) => picks(i).map(({ k, ep }) => `${30000 + i} . ${k} : ${ep}`)),
    hairpin: range.slice(0, 500).map((i) => `${ip(244, i)} . ${ip(244, i)}`),
  };
}

const structure = [
  'add table ip weft',
  ...MAPS.map((m) => `add map ip weft ${m.name} { ${m.spec} }`),
  `add set ip weft ${HAIRPIN.name} { ${HAIRPIN.spec} }`,
  '',
].join('\n');

function setElements(all: Record<string, string[]>): SetElements[] {
  return [...MAPS, HAIRPIN].map((s) => ({ set: s.name, layout: elementLayout(s.spec)!, elements: all[s.name]! }));
}

describe('nf_tables element batches from weft, beside nft', () => {
  const scope = new NetnsScope();
  let ours: Netns;
  let theirs: Netns;

  beforeAll(async () => {
    ours = await scope.create('elw');
    theirs = await scope.create('eln');
  });

  afterAll(async () => {
    await scope.cleanup();
  });

  it('lists the same table as nft loading the same element lines, comments included, across many transactions', async () => {
    const all = elements();
    await ours.exec('nft', ['-f', '-'], structure);
    await theirs.exec('nft', ['-f', '-'], structure);
    const batches = encodeElementBatches('weft', setElements(all), { batchBytes: 64 * 1024 });
    expect(batches.length).toBeGreaterThan(5);
    await commitBatches(batches, ours.path);
    const lines = Object.entries(all).map(([set, list]) => `add element ip weft ${set} { ${list.join(', ')} }`);
    await theirs.exec('nft', ['-f', '-'], `${lines.join('\n')}\n`);
    const listed = await ours.exec('nft', ['list', 'table', 'ip', 'weft']);
    expect(listed).toBe(await theirs.exec('nft', ['list', 'table', 'ip', 'weft']));
    expect(listed).toContain('10.96.11.183 . 80 comment "ns-3/service-2999:http" : 8099');
    expect(listed).toContain('31999 . 2 : 10.244.23.111');
  });

  it('a refused batch changes nothing and names the set; the next batch on the same socket applies', async () => {
    await ours.exec('nft', ['flush', 'table', 'ip', 'weft']);
    const good: SetElements = { set: 'svcs-tcp-3', layout: elementLayout(MAPS[0]!.spec)!, elements: ['10.96.200.1 . 80 : 8080'] };
    const missing: SetElements = { set: 'no-such-map', layout: good.layout, elements: ['10.96.200.2 . 80 : 8080'] };
    const socket = NetfilterSocket.open(ours.path);
    try {
      const refused = socket.commit(encodeElementBatches('weft', [good, missing])[0]!);
      await expect(refused).rejects.toThrow(NetlinkError);
      await expect(refused).rejects.toThrow(/^cannot add 1 elements to set "no-such-map" \(the first "10\.96\.200\.2 \. 80 : 8080"\): No such file or directory \(ENOENT\)/);
      expect(await ours.exec('nft', ['list', 'map', 'ip', 'weft', 'svcs-tcp-3'])).not.toContain('10.96.200.1');
      await socket.commit(encodeElementBatches('weft', [good])[0]!);
      expect(await ours.exec('nft', ['list', 'map', 'ip', 'weft', 'svcs-tcp-3'])).toContain('10.96.200.1 . 80 : 8080');
    } finally {
      socket.close();
    }
  });

  it('asks for a send buffer well above a batch, so a node with a small net.core.wmem_default still loads', async () => {
    const socket = NetfilterSocket.open(ours.path);
    try {
      // The socket gets its address, and a line in ss, with its first message.
      const batch = encodeElementBatches('weft', [{ set: 'svcs-tcp-3', layout: elementLayout(MAPS[0]!.spec)!, elements: ['10.96.201.1 . 80 : 8080'] }])[0]!;
      await socket.commit(batch);
      // The only netfilter socket in this namespace not the kernel's (ss names netlink sockets `nft:OWNER/PORT`).
      const line = (await ours.exec('ss', ['-f', 'netlink', '-a', '-m'])).split('\n').find((l) => / nft:(?!kernel\b)/.test(l)) ?? '';
      const sendBuffer = Number(/\btb(\d+)/.exec(line)?.[1]);
      expect(sendBuffer, line).toBeGreaterThanOrEqual(1 << 20);
    } finally {
      socket.close();
    }
  });
});
