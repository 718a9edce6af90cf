import { closeSync, openSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCidr, parseIp } from '../../lib/ip.ts';
import { IFF_UP } from '../../lib/netlink/link-requests.ts';
import { LinkRequestError, RouteSocket } from '../../lib/netlink/route-socket.ts';
import { NetnsScope, type Netns } from '../support/netns.ts';

// lib/netlink against the real kernel: a socket opened in a namespace acts there only and leaves the
// calling thread where it was; requests make what `ip` would; a refusal names the request and errno.
// Every socket here is opened in a namespace the test made, never in the test runner's own.

describe('RouteSocket', () => {
  const scope = new NetnsScope();
  let node: Netns;
  let pod: Netns;
  const fds: number[] = [];
  const sockets: RouteSocket[] = [];
  const open = (ns: Netns): { socket: RouteSocket; fd: number } => {
    const fd = openSync(ns.path, 'r');
    fds.push(fd);
    const socket = RouteSocket.open(fd);
    sockets.push(socket);
    return { socket, fd };
  };

  beforeAll(async () => {
    node = await scope.create('rsn');
    pod = await scope.create('rsp');
  });

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    for (const fd of fds) closeSync(fd);
    await scope.cleanup();
  });

  it('opens in the namespace it is given and returns the thread to its own', async () => {
    const before = readlinkSync('/proc/thread-self/ns/net');
    const { socket } = open(node);
    expect(readlinkSync('/proc/thread-self/ns/net')).toBe(before);
    socket.apply([{ op: 'create-bridge', name: 'rsbr0', mac: '02:00:00:00:aa:01', vlanFiltering: false }]);
    expect(await node.exec('ip', ['-br', 'link', 'show', 'dev', 'rsbr0'])).toContain('rsbr0');
    expect(socket.getLink('rsbr0')).toMatchObject({ name: 'rsbr0', kind: 'bridge', mac: '02:00:00:00:aa:01' });
    expect(socket.getLink('no-such-link')).toBeUndefined();
  });

  it('makes a veth pair across namespaces, attached, addressed and routed as ip would', async () => {
    const { socket: nodeSocket } = open(node);
    const { socket: podSocket, fd: podFd } = open(pod);
    nodeSocket.apply(
      [
        { op: 'create-veth', name: 'rsv0', mac: '02:00:00:00:aa:02', mtu: 1400, peer: { name: 'eth0', mac: '02:00:00:00:aa:03', netns: pod.path } },
        { op: 'set-alias', name: 'rsv0', alias: 'weft-bridge net=n id=c if=eth0' },
        { op: 'set-master', name: 'rsv0', master: 'rsbr0' },
        { op: 'set-link', name: 'rsv0', set: 'hairpin' },
        { op: 'set-link', name: 'rsv0', set: 'up' },
        { op: 'replace-address', link: 'rsbr0', address: parseCidr('10.99.7.1/24')!, nodad: false },
        { op: 'set-link', name: 'rsbr0', set: 'up' },
      ],
      new Map([[pod.path, podFd]]),
    );
    podSocket.apply([
      { op: 'add-address', link: 'eth0', address: parseCidr('10.99.7.5/24')!, nodad: false },
      { op: 'add-address', link: 'eth0', address: parseCidr('fd99:7::5/64')!, nodad: true },
      { op: 'set-link', name: 'eth0', set: 'up' },
      { op: 'add-route', link: 'eth0', dst: parseCidr('0.0.0.0/0')!, via: parseIp('10.99.7.1')! },
      { op: 'add-route', link: 'eth0', dst: parseCidr('10.98.0.0/16')!, via: parseIp('10.99.7.1')!, metric: 5, mtu: 1300, table: 1000 },
    ]);
    const host = JSON.parse(await node.exec('ip', ['-json', '-details', 'link', 'show', 'dev', 'rsv0']))[0];
    expect(host).toMatchObject({ ifalias: 'weft-bridge net=n id=c if=eth0', master: 'rsbr0', mtu: 1400, address: '02:00:00:00:aa:02' });
    expect(host.linkinfo.info_slave_data.hairpin).toBe(true);
    const eth0 = JSON.parse(await pod.exec('ip', ['-json', 'addr', 'show', 'dev', 'eth0']))[0];
    expect(eth0.addr_info.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`)).toEqual(expect.arrayContaining(['10.99.7.5/24', 'fd99:7::5/64']));
    expect(eth0.addr_info.find((a: { local: string }) => a.local === 'fd99:7::5').tentative).toBeUndefined();
    expect(await pod.exec('ip', ['route', 'show', 'default'])).toContain('default via 10.99.7.1 dev eth0');
    expect(await pod.exec('ip', ['route', 'show', 'table', '1000'])).toMatch(/10.98.0.0\/16 via 10.99.7.1 dev eth0 metric 5 *\n? *mtu 1300/);
    expect((podSocket.getLink('eth0')!.flags & IFF_UP) !== 0).toBe(true);
    expect(nodeSocket.listAddresses()).toContainEqual(expect.objectContaining({ family: 4, local: '10.99.7.1', prefixlen: 24 }));
    await pod.exec('ping', ['-c', '1', '-W', '2', '10.99.7.1']);
  });

  it('names the refused request, its position and errno, and stops there', async () => {
    const { socket } = open(node);
    const failing = () => socket.apply([
      { op: 'set-link', name: 'rsbr0', set: 'up' },
      { op: 'create-bridge', name: 'rsbr0', mac: '02:00:00:00:aa:01', vlanFiltering: false },
      { op: 'create-bridge', name: 'rsbr1', mac: '02:00:00:00:aa:04', vlanFiltering: false },
    ]);
    expect(failing).toThrow(LinkRequestError);
    expect(failing).toThrow('cannot create bridge "rsbr0": File exists (EEXIST)');
    try {
      failing();
    } catch (error) {
      expect(error).toMatchObject({ position: 2, errno: 17, exists: true, missing: false });
    }
    expect(socket.getLink('rsbr1')).toBeUndefined();
    expect(() => socket.apply([{ op: 'delete-link', name: 'rs-missing' }])).toThrow(expect.objectContaining({ missing: true }));
  });

  it('sets and deletes a VXLAN device\'s FDB entry, permanent neighbour and onlink route as bridge and ip list them; applyEach tries every request', async () => {
    await node.exec('ip', ['link', 'add', 'rsvx0', 'type', 'vxlan', 'id', '7', 'dstport', '8472', 'nolearning']);
    await node.exec('ip', ['link', 'set', 'rsvx0', 'up']);
    const { socket } = open(node);
    const subnet = parseCidr('10.97.2.0/24')!;
    const gateway = parseIp('10.97.2.0')!;
    const underlay = parseIp('172.30.66.2')!;
    const mac = '0e:00:00:00:66:02';
    expect(socket.applyEach([
      { op: 'replace-fdb', link: 'rsvx0', mac, dst: underlay },
      { op: 'replace-neighbour', link: 'rsvx0', address: gateway, mac },
      { op: 'replace-route', link: 'rsvx0', dst: subnet, via: gateway, onlink: true },
      // Replacing is idempotent: the same entries again change nothing and are not refused.
      { op: 'replace-fdb', link: 'rsvx0', mac, dst: underlay },
      { op: 'replace-route', link: 'rsvx0', dst: subnet, via: gateway, onlink: true },
    ])).toEqual([]);
    const fdb = JSON.parse(await node.exec('bridge', ['-json', 'fdb', 'show', 'dev', 'rsvx0']));
    expect(fdb).toContainEqual(expect.objectContaining({ mac, dst: '172.30.66.2', state: 'permanent' }));
    expect(await node.exec('ip', ['neigh', 'show', 'dev', 'rsvx0'])).toContain(`10.97.2.0 lladdr ${mac} PERMANENT`);
    expect(await node.exec('ip', ['route', 'show', 'dev', 'rsvx0'])).toContain('10.97.2.0/24 via 10.97.2.0 onlink');

    const removals = [
      { op: 'delete-route', dst: subnet },
      { op: 'delete-neighbour', link: 'rsvx0', address: gateway },
      { op: 'delete-fdb', link: 'rsvx0', mac, dst: underlay },
    ] as const;
    expect(socket.applyEach(removals)).toEqual([]);
    expect(JSON.parse(await node.exec('bridge', ['-json', 'fdb', 'show', 'dev', 'rsvx0']))).not.toContainEqual(expect.objectContaining({ mac }));
    expect(await node.exec('ip', ['neigh', 'show', 'dev', 'rsvx0'])).not.toContain('10.97.2.0');
    expect(await node.exec('ip', ['route', 'show', 'dev', 'rsvx0'])).not.toContain('10.97.2.0/24');
    // Each removal of an entry already gone is refused as missing, and the ones after it still run.
    const again = socket.applyEach([...removals, { op: 'replace-neighbour', link: 'rsvx0', address: gateway, mac }]);
    expect(again.map((e) => [e.position, e.missing])).toEqual([[1, true], [2, true], [3, true]]);
    expect(await node.exec('ip', ['neigh', 'show', 'dev', 'rsvx0'])).toContain('10.97.2.0');
    await node.exec('ip', ['link', 'del', 'rsvx0']);
  });

  it('deletes a link off the calling thread, its veth peer with it, and takes one already gone as done', async () => {
    const { socket } = open(node);
    await socket.deleteLink('rsv0');
    expect(socket.getLink('rsv0')).toBeUndefined();
    expect(await pod.exec('ip', ['-br', 'link', 'show'])).not.toContain('eth0');
    await socket.deleteLink('rsv0');
  });
});
