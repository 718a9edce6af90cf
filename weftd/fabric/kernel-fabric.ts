import { run } from '../../lib/exec.ts';
import { applyIpBatch, queryIpJson } from '../../lib/ip-batch.ts';
import { parseIpv4Cidr } from '../../lib/ip.ts';
import type { IpAddrInfo, IpLink, IpNeighbour, IpRoute } from '../../lib/ip-json.ts';
import type { Uplink } from './fabric-plan.ts';
import type { KernelFabric } from './fabric-prune.ts';
import { planDevice, recreateReason, type DeviceSpec, type LinkState } from './vxlan-device.ts';

// What weftd reads from the kernel and sets up once per start, inside the node's network namespace
// (weftd lives there): the uplink, the VXLAN device, and the entries a previous run left.

function toUplink(link: IpLink, address: IpAddrInfo): Uplink {
  const subnet = parseIpv4Cidr(`${address.local}/${address.prefixlen}`)!;
  return { name: link.ifname, address: address.local, subnet, mtu: link.mtu ?? 1500 };
}

/** The uplink: the named interface's first IPv4 address, or the interface holding `publicIp`. */
export async function findUplink(options: { iface?: string; publicIp?: string }): Promise<Uplink> {
  const links = await queryIpJson<IpLink>(options.iface ? ['addr', 'show', 'dev', options.iface] : ['addr', 'show']);
  for (const link of links) {
    for (const address of link.addr_info ?? []) {
      if (address.family !== 'inet') continue;
      if (options.publicIp === undefined || address.local === options.publicIp) return toUplink(link, address);
    }
  }
  const what = options.iface ? `interface "${options.iface}"` : `an interface`;
  throw new Error(`cannot find uplink: ${what} has no IPv4 address${options.publicIp ? ` "${options.publicIp}"` : ''}`);
}

async function readLinkState(name: string): Promise<LinkState | undefined> {
  const [link] = await queryIpJson<IpLink>(['-d', 'addr', 'show', 'dev', name]);
  if (!link) return undefined;
  const data = link.linkinfo?.info_data ?? {};
  return {
    kind: link.linkinfo?.info_kind,
    vni: data.id,
    local: data.local,
    port: data.port,
    learning: data.learning,
    mac: link.address,
    mtu: link.mtu,
    up: (link.flags ?? []).includes('UP'),
    addresses: (link.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
  };
}

/**
 * Creates or corrects the VXLAN device; a device that cannot be corrected in place is recreated.
 * `created`: the device is new (so it holds no entries of an earlier run), `recreated`: why an old one went.
 */
export async function ensureDevice(spec: DeviceSpec): Promise<{ created: boolean; recreated?: string }> {
  let state = await readLinkState(spec.name);
  const reason = state && recreateReason(state, spec);
  if (reason) {
    await applyIpBatch([`link del ${spec.name}`]);
    state = undefined;
  }
  await applyIpBatch(planDevice(spec, state));
  return { created: state === undefined, ...(reason ? { recreated: reason } : {}) };
}

/** What the kernel holds on the VXLAN device (and the uplink's routes), for pruning after a restart. */
export async function readKernelFabric(device: string, uplink: string): Promise<KernelFabric> {
  const routes = [
    ...(await queryIpJson<IpRoute>(['route', 'show', 'dev', device])).map((r) => ({ ...r, dev: device })),
    ...(await queryIpJson<IpRoute>(['route', 'show', 'dev', uplink])).map((r) => ({ ...r, dev: uplink })),
  ];
  const neighbours = await queryIpJson<IpNeighbour>(['neigh', 'show', 'dev', device]);
  const fdbResult = await run('bridge', ['-json', 'fdb', 'show', 'dev', device]);
  const fdb = fdbResult.code === 0 && fdbResult.stdout.trim() !== '' ? (JSON.parse(fdbResult.stdout) as { mac: string; dst?: string }[]) : [];
  return { routes, neighbours, fdb };
}
