import { attachmentTag, hostVethName, masqChainName, parseAttachmentTag } from '../../plugins/bridge/names.ts';
import { parseBridgeConfig, type BridgeConfig } from '../../plugins/bridge/config.ts';
import { renderMacspoofAdd } from '../../plugins/bridge/macspoof.ts';
import { renderMasqRules } from '../../plugins/bridge/masq.ts';
import { buildResult, planAttachment, renderBridgeCreate, renderBridgeUp, renderGatewayAddresses, renderHostVeth, renderPodSetup, renderVlan } from '../../plugins/bridge/plan.ts';
import { CniError } from '../../plugins/cni/errors.ts';
import type { Request } from '../../plugins/cni/request.ts';
import { runPlugin, type Plugin, type PluginIO } from '../../plugins/cni/skeleton.ts';
import type { Result } from '../../plugins/cni/types.ts';
import { createHostLocalPlugin } from '../../plugins/host-local/plugin.ts';
import { buildDelegateConf, parseVxlanCniConfig } from '../../plugins/vxlan/cni-config.ts';
import { delegateFileName } from '../../plugins/vxlan/delegate-store.ts';
import { parseIpv4Cidr } from '../../lib/ip.ts';
import { encodeLinkRequest } from '../../lib/netlink/link-requests.ts';
import { MemoryStore } from '../unit/host-local/memory-store.ts';
import { expectationProblems, type CniCase, type CorpusPaths } from './cni-corpus.ts';

// The unit tier of the CNI fuzz suite: each case goes through the real skeleton and the real config
// parsers, then (when accepted) through the pure renderers in place of the kernel. A rejection must
// be the spec's error with the expected code; an acceptance must render requests (and `bridge -batch`
// lines) that the kernel and iptables-save read back exactly as meant, within every length it allows.

export const UNIT_PATHS: CorpusPaths = {
  dataDir: '/var/lib/weft-fuzz/networks',
  vxlanDataDir: '/var/lib/weft-fuzz/vxlan',
  subnetFile: '/run/weft-fuzz/subnet.env',
  badSubnetFile: '/run/weft-fuzz/bad-subnet.env',
  resolvConf: '/run/weft-fuzz/resolv.conf',
  fifo: '/run/weft-fuzz/fifo',
};

/** The namespace the unit tier hands valid cases: it exists and is a namespace file, and nothing enters it. */
const SOME_NETNS = '/proc/self/ns/net';

/** `ip -batch` reading one line (iproute2's getcmdline + makeargs): "#" ends it, quotes group words. */
export function ipBatchWords(line: string): string[] {
  const text = line.split('#')[0]!;
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
    if (i >= text.length) break;
    const quote = text[i] === '"' || text[i] === "'" ? text[i]! : undefined;
    if (quote) {
      const end = text.indexOf(quote, i + 1);
      if (end < 0) throw new Error(`ip -batch stops: unterminated quote in ${JSON.stringify(line)}`);
      words.push(text.slice(i + 1, end));
      i = end + 1;
    } else {
      let end = i;
      while (end < text.length && !' \t\r\n'.includes(text[end]!)) end++;
      words.push(text.slice(i, end));
      i = end;
    }
  }
  return words;
}

/** What iptables-save prints for a comment (xtables_save_string), read back as iptables-restore would. */
function throughIptablesSave(comment: string): string {
  const plain = /^[A-Za-z0-9_-]+$/.test(comment);
  const saved = plain ? comment : `"${comment.replace(/["\\']/g, (c) => `\\${c}`)}"`;
  return plain ? saved : saved.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** Everything an accepted bridge attachment renders, checked as the kernel and the tools would read it. */
function renderProblems(config: BridgeConfig, attachment: { containerId: string; ifname: string }, netns: string, ipam: Result | undefined): string[] {
  const problems: string[] = [];
  const plan = planAttachment(config, attachment, { netns, ...(ipam ? { ipam } : {}) });
  const requests = [renderBridgeCreate(config), ...renderGatewayAddresses(plan, []), ...renderBridgeUp(config, { mac: '', up: false, promisc: false, addresses: [] }), ...renderHostVeth(plan), ...renderPodSetup(plan)];
  for (const request of requests) encodeLinkRequest(request, { index: () => 1, netnsFd: () => 3 });
  for (const line of renderVlan(plan)) ipBatchWords(line);
  const [veth, alias] = renderHostVeth(plan);
  if (veth?.op !== 'create-veth' || veth.name !== plan.hostVeth || veth.peer.name !== attachment.ifname) problems.push(`the veth request names ${JSON.stringify(veth)}, not ${plan.hostVeth} with peer ${attachment.ifname}`);
  const bridge = renderBridgeCreate(config);
  if (bridge.op !== 'create-bridge' || Buffer.byteLength(bridge.name) > 15) problems.push(`the bridge request names ${JSON.stringify(bridge)}: the kernel takes names of at most 15 bytes`);
  const tag = attachmentTag(config.name, attachment);
  if (Buffer.byteLength(tag) > 255) problems.push(`attachment tag is ${Buffer.byteLength(tag)} bytes: an alias or iptables comment takes 255`);
  const back = parseAttachmentTag(throughIptablesSave(tag));
  if (!back || back.network !== config.name || back.attachment.containerId !== attachment.containerId || back.attachment.ifname !== attachment.ifname) problems.push(`attachment tag ${JSON.stringify(tag)} does not read back from iptables-save`);
  if (alias?.op !== 'set-alias' || alias.alias !== tag) problems.push('the alias request does not carry the tag');
  if (hostVethName(attachment).length > 15 || masqChainName(config.name, attachment).length > 28) problems.push('a derived name exceeds its kernel limit');
  if (config.ipMasq) renderMasqRules(attachment, { network: config.name, ips: plan.ips });
  if (config.macspoofchk) renderMacspoofAdd(plan.hostVeth, plan.podMac);
  const result = buildResult(plan, { bridgeMac: '02:00:00:00:00:01', ...(ipam ? { ipam } : {}) });
  if (result.interfaces?.[2]?.name !== attachment.ifname) problems.push('the result names another pod interface');
  return problems;
}

function memoryHostLocal(): Plugin<unknown> {
  const store = new MemoryStore();
  return createHostLocalPlugin({ openStore: () => store, readFile: () => 'nameserver 10.0.0.10\n' }) as Plugin<unknown>;
}

/** The environment a delegating plugin hands its delegate (as plugins/cni/delegate.ts builds it). */
function delegateEnv(request: Request): NodeJS.ProcessEnv {
  return {
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: request.containerId,
    CNI_IFNAME: request.ifname,
    CNI_NETNS: request.netns,
    CNI_PATH: request.path.join(':'),
    CNI_ARGS: [...request.args].map(([k, v]) => `${k}=${v}`).join(';'),
    WEFT_CNI_DEPTH: String(request.depth + 1),
  };
}

/** A delegate's answer as the delegating plugin receives it: its result, or its error rethrown. */
async function runDelegate(plugin: Plugin<unknown>, env: NodeJS.ProcessEnv, stdin: string): Promise<Result> {
  const { io, out } = captureIo(env, stdin);
  const code = await runPlugin(plugin, io);
  const json = JSON.parse(out());
  if (code !== 0) throw new CniError(json.code, json.msg, { details: json.details });
  return json as Result;
}

interface Io {
  io: PluginIO;
  out(): string;
}

function captureIo(env: NodeJS.ProcessEnv, stdin: string): Io {
  let out = '';
  return { io: { env, readStdin: async () => stdin, writeStdout: (t) => void (out += t), logError: (_e: CniError) => {} }, out: () => out };
}

/** weft-bridge with the kernel replaced by the renderers; IPAM by weft-host-local over memory. */
function dryBridge(problems: string[]): Plugin<BridgeConfig> {
  return {
    entersNetns: true,
    parseConfig: parseBridgeConfig,
    add: async (ctx) => {
      let ipam: Result | undefined;
      if (ctx.config.ipamType === 'weft-host-local') ipam = await runDelegate(memoryHostLocal(), delegateEnv(ctx.request), ctx.stdin);
      problems.push(...renderProblems(ctx.config, { containerId: ctx.request.containerId, ifname: ctx.request.ifname }, ctx.request.netns!, ipam));
      return { cniVersion: ctx.conf.cniVersion, ips: ipam?.ips ?? [] };
    },
    del: async () => {},
    check: async () => {},
    status: async () => {},
    gc: async () => {},
  };
}

const SUBNET = { network: parseIpv4Cidr('10.244.0.0/16')!, subnet: parseIpv4Cidr('10.244.7.1/24')!, mtu: 1450, ipMasq: false };

/** weft-vxlan with the subnet file given and its delegate run dry through the skeleton. */
function dryVxlan(problems: string[]): Plugin<ReturnType<typeof parseVxlanCniConfig>> {
  return {
    parseConfig: parseVxlanCniConfig,
    add: async (ctx) => {
      if (Buffer.byteLength(delegateFileName(ctx.request.containerId, ctx.request.ifname)) > 255) problems.push('the stored delegate file name exceeds 255 bytes');
      const conf = buildDelegateConf(ctx.conf, ctx.config, SUBNET);
      if (conf.type !== 'weft-bridge') return { cniVersion: ctx.conf.cniVersion };
      return runDelegate(dryBridge(problems) as Plugin<unknown>, delegateEnv(ctx.request), JSON.stringify(conf));
    },
    del: async () => {},
    check: async () => {},
    status: async () => {},
    gc: async () => {},
  };
}

export interface ValidationOutcome {
  readonly code: number;
  readonly json: unknown;
  readonly problems: string[];
}

/** Runs one case's ADD through validation and the renderers; problems name every property it broke. */
export async function validateCniCase(c: CniCase): Promise<ValidationOutcome> {
  const problems: string[] = [];
  const plugin = c.plugin === 'weft-bridge' ? dryBridge(problems) : c.plugin === 'weft-vxlan' ? dryVxlan(problems) : memoryHostLocal();
  const env: NodeJS.ProcessEnv = {
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: c.containerId,
    CNI_IFNAME: c.ifname,
    CNI_NETNS: c.netns ?? SOME_NETNS,
    CNI_PATH: '/opt/cni/bin',
    ...(c.cniArgs !== undefined ? { CNI_ARGS: c.cniArgs } : {}),
    ...c.extraEnv,
  };
  const { io, out } = captureIo(env, c.stdin);
  let code: number;
  try {
    code = await runPlugin(plugin as Plugin<unknown>, io);
  } catch (error) {
    return { code: -1, json: undefined, problems: [`the skeleton threw instead of answering: ${(error as Error).message}`] };
  }
  let json: unknown;
  try {
    json = JSON.parse(out());
  } catch {
    return { code, json: undefined, problems: [...problems, `stdout is not JSON: ${JSON.stringify(out().slice(0, 200))}`] };
  }
  // A renderer refusing a value validation let through shows as a non-CNI error (code 5 or 100 from a plain Error).
  if (code !== 0 && /cannot write .* on an ip batch line/.test((json as { msg?: string }).msg ?? '')) problems.push(`validation let through a value the ip batch guard refused: ${(json as { msg: string }).msg}`);
  if (!c.atRun) problems.push(...expectationProblems(c, { code, json }));
  else if (code !== 0) problems.push(...expectationProblems({ ...c, expect: { kind: 'either' } }, { code, json }));
  return { code, json, problems };
}
