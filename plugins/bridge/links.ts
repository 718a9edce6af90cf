import { readFileSync, writeFileSync } from 'node:fs';
import { applyIpBatch, ipLine, IpBatchError, queryIpJson, type StartedIpBatch } from '../../lib/ip-batch.ts';
import { parseIpJson, type IpLink, type IpRoute } from '../../lib/ip-json.ts';
import { CniError, ErrorCode } from '../cni/errors.ts';
import type { UndoLog } from '../cni/undo.ts';
import type { Family } from '../../lib/ip.ts';
import type { BridgeConfig } from './config.ts';
import { renderBridgeCreate, renderHostVeth, type AttachmentPlan, type BridgeState } from './plan.ts';

// The kernel side of links: every function here spawns `ip`/`bridge` or writes /proc, and is idempotent.

/** The bridge's state from an `ip -json -details addr show` entry; anything but a bridge by that name is a config error. */
function bridgeStateOf(bridge: string, link: IpLink | undefined): BridgeState {
  if (!link) throw new CniError(ErrorCode.NetlinkFailure, `cannot read bridge "${bridge}": ip printed no description of it`);
  if (link.linkinfo?.info_kind !== 'bridge') {
    throw new CniError(ErrorCode.InvalidConfig, `cannot use bridge "${bridge}": an interface of kind "${link.linkinfo?.info_kind ?? 'unknown'}" has that name`);
  }
  const flags = link.flags ?? [];
  const addresses = (link.addr_info ?? []).map((a) => ({ family: (a.family === 'inet6' ? 6 : 4) as Family, local: a.local, prefixlen: a.prefixlen }));
  return { mac: link.address ?? '', up: flags.includes('UP'), promisc: flags.includes('PROMISC'), addresses };
}

async function createBridge(config: BridgeConfig): Promise<void> {
  try {
    await applyIpBatch([renderBridgeCreate(config)]);
  } catch (error) {
    // Many ADDs may race to create it: "File exists" from a concurrent creator is success.
    if (!(error instanceof IpBatchError && error.exists)) throw error;
  }
}

/**
 * One `ip` run reads the bridge and makes the pod's veth pair on it, so an ADD on a node whose bridge
 * exists spends one spawn on the node's side (each costs ~10 ms here). A missing bridge is created and
 * the run repeated. Reading first means a name held by something else is only found after the veth
 * tried to join it: the veth's undo, recorded before the run, removes it then. Returns the bridge as it
 * was before the veth joined.
 */
export async function addVethToBridge(plan: AttachmentPlan, undo: UndoLog, started?: StartedIpBatch): Promise<BridgeState> {
  const { bridge } = plan.config;
  const lines = [ipLine`addr show dev ${bridge}`, ...renderHostVeth(plan)];
  const VETH_LINE = 2;
  let vethMayExist = true;
  undo.record('delete the host veth', async () => {
    if (vethMayExist) await deleteLink(plan.hostVeth);
  });
  let first = started;
  const attempt = async (): Promise<string> => {
    vethMayExist = true;
    const batch = first;
    first = undefined;
    try {
      return await (batch ? batch.apply(lines) : applyIpBatch(lines, { json: true }));
    } catch (error) {
      if (!(error instanceof IpBatchError)) throw error;
      // A failure named at or before the veth line means the pair was not made here: a name that exists is another call's.
      if (error.line !== undefined && error.line <= VETH_LINE) vethMayExist = false;
      // What the bridge is explains a failure to join it better than ip's words.
      if (error.line !== undefined && error.line > 1) bridgeStateOf(bridge, parseIpJson<IpLink>(error.output).entries[0]);
      throw error;
    }
  };
  let output: string;
  try {
    output = await attempt();
  } catch (error) {
    if (!(error instanceof IpBatchError && error.line === 1 && error.missing)) throw error;
    await createBridge(plan.config);
    output = await attempt();
  }
  return bridgeStateOf(bridge, parseIpJson<IpLink>(output).entries[0]);
}

const FORWARDING: Record<Family, string> = { 4: '/proc/sys/net/ipv4/ip_forward', 6: '/proc/sys/net/ipv6/conf/all/forwarding' };

/** A gateway forwards: turn on forwarding in this (the node's) namespace, writing only when it is off. */
export function enableForwarding(families: Iterable<Family>): void {
  for (const family of new Set(families)) {
    if (readFileSync(FORWARDING[family], 'utf8').trim() !== '1') writeFileSync(FORWARDING[family], '1');
  }
}

/** Deletes a link; one already gone is success. */
export async function deleteLink(name: string, options: { netns?: string } = {}): Promise<void> {
  try {
    await applyIpBatch([ipLine`link del dev ${name}`], options);
  } catch (error) {
    if (!(error instanceof IpBatchError && error.missing)) throw error;
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
