import { readFileSync, writeFileSync } from 'node:fs';
import { queryIpJson } from '../../lib/ip-batch.ts';
import type { IpLink, IpRoute } from '../../lib/ip-json.ts';
import { IFF_PROMISC, IFF_UP, type LinkInfo } from '../../lib/netlink/link-requests.ts';
import { LinkRequestError, type RouteSocket } from '../../lib/netlink/route-socket.ts';
import { NetlinkError } from '../../lib/netlink/socket.ts';
import { CniError, ErrorCode } from '../cni/errors.ts';
import type { UndoLog } from '../cni/undo.ts';
import type { Family } from '../../lib/ip.ts';
import type { BridgeConfig } from './config.ts';
import { renderBridgeCreate, renderHostVeth, type AttachmentPlan, type BridgeState } from './plan.ts';

// The kernel side of links: rtnetlink requests on the node's and the pod's sockets, /proc writes, and
// `ip -json` for the reads of CHECK and GC. Every function here is idempotent.

/** The bridge by name, created when missing; anything but a bridge by that name is a config error. */
function ensureBridge(node: RouteSocket, config: BridgeConfig): LinkInfo {
  let link = node.getLink(config.bridge);
  if (!link) {
    try {
      node.apply([renderBridgeCreate(config)]);
    } catch (error) {
      // Many ADDs may race to create it: "File exists" from a concurrent creator is success.
      if (!(error instanceof NetlinkError && error.exists)) throw error;
    }
    link = node.getLink(config.bridge);
    if (!link) throw new CniError(ErrorCode.NetlinkFailure, `cannot read bridge "${config.bridge}": it is gone right after it was made`);
  }
  if (link.kind !== 'bridge') {
    throw new CniError(ErrorCode.InvalidConfig, `cannot use bridge "${config.bridge}": an interface of kind "${link.kind ?? 'unknown'}" has that name`);
  }
  return link;
}

/**
 * Makes the pod's veth pair on the bridge (creating the bridge when missing), its peer directly in the
 * pod's namespace (open as podNetnsFd). Returns the bridge as it was before the veth joined.
 */
export function addVethToBridge(plan: AttachmentPlan, undo: UndoLog, node: RouteSocket, podNetnsFd: number): BridgeState {
  const link = ensureBridge(node, plan.config);
  const addresses = node
    .listAddresses()
    .filter((a) => a.index === link.index)
    .map((a) => ({ family: a.family as Family, local: a.local, prefixlen: a.prefixlen }));
  let vethMayExist = true;
  undo.record('delete the host veth', async () => {
    if (vethMayExist) await node.deleteLink(plan.hostVeth);
  });
  try {
    node.apply(renderHostVeth(plan), new Map([[plan.netns, podNetnsFd]]));
  } catch (error) {
    // A refused veth creation (the first request) means the pair was not made here: a name that exists is another call's.
    if (error instanceof LinkRequestError && error.position === 1) vethMayExist = false;
    throw error;
  }
  return { mac: link.mac, up: (link.flags & IFF_UP) !== 0, promisc: (link.flags & IFF_PROMISC) !== 0, addresses };
}

const FORWARDING: Record<Family, string> = { 4: '/proc/sys/net/ipv4/ip_forward', 6: '/proc/sys/net/ipv6/conf/all/forwarding' };

/** A gateway forwards: turn on forwarding in this (the node's) namespace, writing only when it is off. */
export function enableForwarding(families: Iterable<Family>): void {
  for (const family of new Set(families)) {
    if (readFileSync(FORWARDING[family], 'utf8').trim() !== '1') writeFileSync(FORWARDING[family], '1');
  }
}

export async function queryLink(name: string, options: { netns?: string } = {}): Promise<IpLink | undefined> {
  return (await queryIpJson<IpLink>(['-d', 'addr', 'show', 'dev', name], options))[0];
}

/** Every link of the node's namespace with its alias (the attachment tag of our host veths). */
export async function listLinks(): Promise<IpLink[]> {
  return queryIpJson<IpLink>(['-d', 'link', 'show']);
}

export async function queryRoutes(netns: string): Promise<IpRoute[]> {
  const [v4, v6] = await Promise.all([
    queryIpJson<IpRoute>(['-4', 'route', 'show', 'table', 'all'], { netns }),
    queryIpJson<IpRoute>(['-6', 'route', 'show', 'table', 'all'], { netns }),
  ]);
  return [...v4, ...v6];
}
