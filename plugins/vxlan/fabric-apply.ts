import { run } from '../../lib/exec.ts';
import { applyBridgeBatch, applyIpBatch, queryIpJson, saysMissing } from '../../lib/ip-batch.ts';
import { parseIpv4Cidr } from '../../lib/ip.ts';
import type { IpAddrInfo, IpLink, IpNeighbour, IpRoute } from '../../lib/ip-json.ts';
import type { FabricCommands, Uplink } from './fabric-plan.ts';
import type { KernelFabric } from './fabric-prune.ts';
import { planDevice, recreateReason, type DeviceSpec, type LinkState } from './vxlan-device.ts';

// The kernel side of the fabric, run inside the node's network namespace (weftd lives there).

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

/** Creates or corrects the VXLAN device; a device that cannot be corrected in place is recreated. */
export async function ensureDevice(spec: DeviceSpec): Promise<{ recreated?: string }> {
  let state = await readLinkState(spec.name);
  const reason = state && recreateReason(state, spec);
  if (reason) {
    await applyIpBatch([`link del ${spec.name}`]);
    state = undefined;
  }
  await applyIpBatch(planDevice(spec, state));
  return reason ? { recreated: reason } : {};
}

/** Runs removals with -force (an entry already gone is the goal reached); returns what failed otherwise. */
async function removeAll(program: 'ip' | 'bridge', lines: readonly string[]): Promise<string[]> {
  if (lines.length === 0) return [];
  const result = await run(program, ['-force', '-batch', '-'], { input: lines.join('\n') + '\n' });
  if (result.code === 0) return [];
  return result.stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('Command failed') && !saysMissing(l));
}

/** Applies a fabric change: removals first (tolerating absent entries), then FDB, neighbours and routes. */
export async function applyFabricCommands(commands: FabricCommands): Promise<{ removalErrors: string[] }> {
  const removalErrors = [...(await removeAll('ip', commands.ipRemove)), ...(await removeAll('bridge', commands.bridgeRemove))];
  await applyBridgeBatch(commands.bridgeAdd);
  await applyIpBatch(commands.ipAdd);
  return { removalErrors };
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
