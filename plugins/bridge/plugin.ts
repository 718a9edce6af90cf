import { closeSync, openSync } from 'node:fs';
import { applyBridgeBatch } from '../../lib/ip-batch.ts';
import { RouteSocket } from '../../lib/netlink/route-socket.ts';
import { runAll } from '../cni/run-all.ts';
import { delegate, type PluginInvoker } from '../cni/delegate.ts';
import { CniError, ErrorCode, toCniError } from '../cni/errors.ts';
import { parseResult } from '../cni/result.ts';
import type { Context, Plugin } from '../cni/skeleton.ts';
import type { Attachment, Result, Verb } from '../cni/types.ts';
import { parseCidr } from '../../lib/ip.ts';
import { findMismatches } from './check.ts';
import { parseBridgeConfig, type BridgeConfig } from './config.ts';
import { addVethToBridge, enableForwarding, listLinks, queryLink, queryRoutes } from './links.ts';
import { renderMacspoofAdd } from './macspoof.ts';
import { renderMasqRules } from './masq.ts';
import { hostVethName, parseAttachmentTag } from './names.ts';
import { applyMacspoof, applyMasq, removeMacspoof, removeMasq } from './packet-filter.ts';
import { buildResult, planAttachment, renderBridgeUp, renderGatewayAddresses, renderPodSetup, renderVlan } from './plan.ts';
import { UndoLog } from '../cni/undo.ts';

// weft-bridge's verbs. The decisions live in plan.ts, masq.ts, macspoof.ts and check.ts; this file
// orders the steps, records how to undo each, and delegates IPAM.

export interface BridgePluginOptions {
  /** How delegated IPAM plugins run; the single executable runs its own in-process. */
  invoke?: PluginInvoker;
}

function attachmentOf(ctx: Context<BridgeConfig>): Attachment {
  return { containerId: ctx.request.containerId, ifname: ctx.request.ifname };
}

function ipam(ctx: Context<BridgeConfig>, verb: Verb, options: BridgePluginOptions): Promise<Result | undefined> {
  return delegate(ctx.config.ipamType!, verb, ctx.request, ctx.stdin, { caller: ctx.conf.type, field: 'ipam.type', invoke: options.invoke });
}

/** Runs every step even when one fails (DEL and GC must clean up as much as they can), then throws the first failure. */
async function runSteps(action: string, steps: (() => Promise<unknown>)[]): Promise<void> {
  const failures = (await runAll(steps, (step) => step())).map((f) => f.error);
  if (failures.length) {
    const error = toCniError(failures[0], ErrorCode.NetlinkFailure, action);
    throw failures.length > 1 ? new CniError(error.code, error.message, { details: failures.map((f) => (f instanceof Error ? f.message : String(f))).join('; ') }) : error;
  }
}

async function add(ctx: Context<BridgeConfig>, options: BridgePluginOptions): Promise<Result> {
  const { config } = ctx;
  const attachment = attachmentOf(ctx);
  const undo = new UndoLog();
  const netns = ctx.request.netns!;
  let podNetnsFd: number | undefined;
  let node: RouteSocket | undefined;
  let pod: RouteSocket | undefined;
  try {
    podNetnsFd = openSync(netns, 'r');
    node = RouteSocket.open();
    pod = RouteSocket.open(podNetnsFd);
    const allocated = config.ipamType ? await ipam(ctx, 'ADD', options) : undefined;
    if (allocated) undo.record('release the IPAM allocation', () => ipam(ctx, 'DEL', options));
    const plan = planAttachment(config, attachment, { netns, ipam: allocated });
    if (plan.gateways.length) enableForwarding(plan.gateways.map((g) => parseCidr(g)!.ip.family));
    const bridge = addVethToBridge(plan, undo, node, podNetnsFd);
    node.apply([...renderGatewayAddresses(plan, bridge.addresses), ...renderBridgeUp(config, bridge)]);
    await applyBridgeBatch(renderVlan(plan));
    pod.apply(renderPodSetup(plan));
    if (config.ipMasq) {
      const rules = renderMasqRules(attachment, { network: config.name, ips: plan.ips });
      undo.record('remove the masquerade rules', () => removeMasq((net, a) => net === config.name && sameAttachment(a, attachment)));
      await applyMasq(rules);
    }
    if (config.macspoofchk) {
      undo.record('remove the macspoofchk rule', () => removeMacspoof((name) => name === plan.hostVeth));
      await applyMacspoof(renderMacspoofAdd(plan.hostVeth, plan.podMac));
    }
    return buildResult(plan, { bridgeMac: bridge.mac, ipam: allocated });
  } catch (thrown) {
    return await undo.unwindAndThrow(thrown, { code: ErrorCode.NetlinkFailure, action: `add "${attachment.ifname}" of container "${attachment.containerId}"` });
  } finally {
    pod?.close();
    node?.close();
    if (podNetnsFd !== undefined) closeSync(podNetnsFd);
  }
}

async function withNodeSocket(use: (node: RouteSocket) => Promise<void>): Promise<void> {
  const node = RouteSocket.open();
  try {
    await use(node);
  } finally {
    node.close();
  }
}

function sameAttachment(a: Attachment, b: Attachment): boolean {
  return a.containerId === b.containerId && a.ifname === b.ifname;
}

async function del(ctx: Context<BridgeConfig>, options: BridgePluginOptions): Promise<void> {
  const { config } = ctx;
  const attachment = attachmentOf(ctx);
  const hostVeth = hostVethName(attachment);
  // Deleting the host end removes the pod's end too, so DEL works the same with or without the namespace.
  await runSteps(`delete "${attachment.ifname}" of container "${attachment.containerId}"`, [
    () => withNodeSocket((node) => node.deleteLink(hostVeth)),
    ...(config.ipMasq ? [() => removeMasq((net, a) => net === config.name && sameAttachment(a, attachment))] : []),
    ...(config.macspoofchk ? [() => removeMacspoof((name) => name === hostVeth)] : []),
    ...(config.ipamType ? [() => ipam(ctx, 'DEL', options)] : []),
  ]);
}

async function check(ctx: Context<BridgeConfig>, options: BridgePluginOptions): Promise<void> {
  const attachment = attachmentOf(ctx);
  if (ctx.conf.prevResult === undefined) throw new CniError(ErrorCode.InvalidConfig, 'invalid config: "prevResult" is required for CHECK');
  const prev = parseResult(ctx.conf.prevResult);
  if (ctx.config.ipamType) await ipam(ctx, 'CHECK', options);
  const netns = ctx.request.netns!;
  const hostVeth = hostVethName(attachment);
  const [pod, routes, host] = await Promise.all([queryLink(attachment.ifname, { netns }), queryRoutes(netns), queryLink(hostVeth)]);
  const problems = findMismatches(prev, { pod, routes, host }, { attachment, bridge: ctx.config.bridge, hostVeth });
  if (problems.length) throw new CniError(ErrorCode.CheckMismatch, `cannot confirm "${attachment.ifname}" of container "${attachment.containerId}": ${problems.join('; ')}`);
}

async function gc(ctx: Context<BridgeConfig>, valid: readonly Attachment[], options: BridgePluginOptions): Promise<void> {
  const network = ctx.config.name;
  const isValid = (a: Attachment) => valid.some((v) => sameAttachment(v, a));
  const links = await listLinks();
  const strays = links.filter((link) => {
    const tag = link.ifalias ? parseAttachmentTag(link.ifalias) : undefined;
    return tag !== undefined && tag.network === network && !isValid(tag.attachment);
  });
  const remaining = new Set(links.map((l) => l.ifname).filter((name) => !strays.some((s) => s.ifname === name)));
  await runSteps(`collect garbage of network "${network}"`, [
    ...(ctx.config.ipamType ? [() => ipam(ctx, 'GC', options)] : []),
    ...strays.map((link) => () => withNodeSocket((node) => node.deleteLink(link.ifname))),
    () => removeMasq((net, a) => net === network && !isValid(a)),
    // An element whose veth is gone is stale whichever network made it.
    () => removeMacspoof((name) => !remaining.has(name)),
  ]);
}

export function createBridgePlugin(options: BridgePluginOptions = {}): Plugin<BridgeConfig> {
  return {
    entersNetns: true,
    parseConfig: parseBridgeConfig,
    add: (ctx) => add(ctx, options),
    del: (ctx) => del(ctx, options),
    check: (ctx) => check(ctx, options),
    status: async (ctx) => {
      if (ctx.config.ipamType) await ipam(ctx, 'STATUS', options);
    },
    gc: (ctx, valid) => gc(ctx, valid, options),
  };
}
