import { readFileSync, writeFileSync } from 'node:fs';
import { applyIpBatch, ipLine, IpBatchError, queryIpJson } from '../../lib/ip-batch.ts';
import type { IpLink, IpRoute } from '../../lib/ip-json.ts';
import { CniError, ErrorCode } from '../cni/errors.ts';
import type { Family } from '../../lib/ip.ts';
import type { BridgeConfig } from './config.ts';
import { renderBridgeCreate, type BridgeAddress } from './plan.ts';

// The kernel side of links: every function here spawns `ip`/`bridge` or writes /proc, and is idempotent.

export interface BridgeState {
  mac: string;
  addresses: BridgeAddress[];
}

/**
 * Makes sure the bridge exists and is a bridge. Many ADDs may race to create it: "File exists" from
 * a concurrent creator is success, and what is there is verified either way.
 */
export async function ensureBridge(config: BridgeConfig): Promise<BridgeState> {
  let link = await queryLink(config.bridge);
  if (!link) {
    try {
      await applyIpBatch([renderBridgeCreate(config)]);
    } catch (error) {
      if (!(error instanceof IpBatchError && error.exists)) throw error;
    }
    link = await queryLink(config.bridge);
  }
  if (!link) throw new CniError(ErrorCode.NetlinkFailure, `cannot create bridge "${config.bridge}": it vanished after creation`);
  if (link.linkinfo?.info_kind !== 'bridge') {
    throw new CniError(ErrorCode.InvalidConfig, `cannot use bridge "${config.bridge}": an interface of kind "${link.linkinfo?.info_kind ?? 'unknown'}" has that name`);
  }
  const addresses = (link.addr_info ?? []).map((a) => ({ family: (a.family === 'inet6' ? 6 : 4) as Family, local: a.local, prefixlen: a.prefixlen }));
  return { mac: link.address ?? '', addresses };
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
