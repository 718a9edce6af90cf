import { formatMark, type ProxyConfig } from '../core/config.ts';
import { mayHairpin, type Endpoint } from '../core/endpoints.ts';
import { affinityListName } from '../core/service-names.ts';
import { planServicePort, type ServicePlan } from '../core/service-plan.ts';
import type { ProxyState, ServicePortState } from '../core/state.ts';
import { groupKey, groupNames, groupsOf, parseGroupKey } from './groups.ts';
import type { NftChain, NftSet, NftTable } from './table.ts';

// The desired `ip weft` table. Most Service ports (Cluster policies, no affinity, no source ranges)
// get no chain at all: they are elements of sets and maps grouped by protocol and endpoint count N,
// and one rule per group picks `numgen random mod N` in a map keyed by destination, so an endpoint
// change is a few element lines and the kernel never loads a chain per Service (docs/PERFORMANCE.md
// has the load times). nft's time to load a full sync grows with the fields of each element, and
// the endpoint maps hold most elements, so a group's keys leave out the protocol its rules match,
// and its endpoint maps hold addresses only: the port, which a grouped port's endpoints share, is
// the value of its destination's element. The few ports with affinity, Local policies,
// loadBalancerSourceRanges or endpoints on different ports get per-service chains (named as the
// iptables ones, from the core's ServicePlan), reached through verdict maps.

const DEST = 'ip daddr . meta l4proto . th dport';
const PORT = 'meta l4proto . th dport';
/** A destination within a group, whose rules match the protocol. */
const GROUP_DEST = 'ip daddr . th dport';

const CHAIN = {
  services: 'services',
  nodePorts: 'nodeports',
  masquerading: 'masquerading',
  verdicts: 'service-verdicts',
} as const;

/** Pairs (endpoint, endpoint): a connection DNATed from an endpoint back to itself is masqueraded. */
export const HAIRPIN_SET = 'hairpin';

const SET = {
  clusterIPs: 'cluster-ips',
  externalIPs: 'external-ips',
  externalNodePorts: 'external-nodeports',
  serviceIPs: 'service-ips',
  serviceNodePorts: 'service-nodeports',
  rejectIPs: 'reject-ips',
  rejectNodePorts: 'reject-nodeports',
  dropIPs: 'drop-ips',
  dropNodePorts: 'drop-nodeports',
  hairpin: HAIRPIN_SET,
} as const;

/**
 * A port the grouped maps express: endpoints sharing one port, Cluster policies, no affinity, no
 * source ranges. It is decided from the state alone: the ServicePlan of the others names four chains
 * by hashing, which the grouped ports (nearly all of them) do not need.
 */
function isGrouped(sp: ServicePortState): boolean {
  const external = sp.nodePort !== undefined || externalDestinations(sp).length > 0;
  const firewall = sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
  const onePort = sp.clusterEndpoints.every((e) => e.port === sp.clusterEndpoints[0]?.port);
  return sp.clusterEndpoints.length > 0 && onePort && sp.affinitySeconds === undefined && !sp.internalTrafficLocal && !(sp.externalTrafficLocal && external) && !firewall;
}

// Element texts are built with Array#join, which makes one flat string: a template literal makes a
// tree of string pieces, and a full sync holding 100k elements would keep every piece alive (and
// the garbage collector busy copying them).

function destination(ip: string, sp: ServicePortState): string {
  return [ip, sp.protocol, sp.port].join(' . ');
}

function nodePortKey(sp: ServicePortState): string {
  return [sp.protocol, sp.nodePort].join(' . ');
}

function externalDestinations(sp: ServicePortState): string[] {
  return [...sp.externalIPs, ...sp.loadBalancerIPs];
}

/** "Addressed to this node": every local address, or the configured NodePort CIDRs. */
function nodeAddressMatch(nodePortAddresses: readonly string[]): string {
  return nodePortAddresses.length === 0 ? 'fib daddr type local' : `ip daddr { ${nodePortAddresses.join(', ')} }`;
}

function setMark(mark: number): string {
  return `meta mark set meta mark | ${formatMark(mark)}`;
}

/**
 * What one Service port contributes to the table besides its elements: its own chains and sets, and
 * its endpoint-count group. Its elements (`key` for sets, `key : value` for maps) go to a sink: a full
 * sync collects them per set, a partial sync compares the changed ports' lists before and after.
 */
export interface PortDeclarations {
  readonly chains: readonly NftChain[];
  readonly sets: readonly NftSet[];
  readonly group?: string;
}

export interface ElementSink {
  add(set: string, element: string): void;
}

/** A port's declarations with its elements as `SET ELEMENT` lines: what a partial sync compares. */
export interface Parts extends PortDeclarations {
  readonly elements: readonly string[];
}

/**
 * The element comment naming Service port `sp` (`namespace/name:port`), which `weft explain` reports
 * for the element a packet matched; none when nft could not take the key as it is (a character
 * outside DNS labels, which would need quoting nft has not, or more than nft's 128 characters: a
 * 63-character namespace and name with a long port name). The element is written either way.
 */
function elementComment(sp: ServicePortState): string | undefined {
  return sp.key.length <= COMMENT_MAX && COMMENT_TEXT.test(sp.key) ? `comment "${sp.key}"` : undefined;
}

const COMMENT_MAX = 128;
const COMMENT_TEXT = /^[a-z0-9][a-z0-9.-]*\/[a-z0-9][a-z0-9.-]*:[a-z0-9-]+$/;

/**
 * The elements of one Service port. Those that stand for the port (its destinations and node port in
 * the group sets, the verdict maps, the marking, reject and drop sets) carry its comment; the
 * per-endpoint map elements do not, keeping a full sync cheap, as the tracer finds the name on the
 * key element that led there.
 */
class PortElements {
  readonly #sink: ElementSink;
  readonly #comment: string | undefined;
  constructor(sink: ElementSink, sp: ServicePortState) {
    this.#sink = sink;
    this.#comment = elementComment(sp);
  }
  add(set: string, key: string, value?: string): void {
    this.#sink.add(set, value === undefined ? key : [key, value].join(' : '));
  }
  named(set: string, key: string, value?: string): void {
    this.add(set, this.#comment === undefined ? key : [key, this.#comment].join(' '), value);
  }
}

/** A grouped port's elements: each destination maps to the endpoints' port, each destination and pick to an endpoint's address. */
function addGrouped(sp: ServicePortState, elements: PortElements): string {
  const key = groupKey(sp.protocol, sp.clusterEndpoints.length);
  const g = groupNames(key);
  const targetPort = String(sp.clusterEndpoints[0]?.port);
  for (const ip of [sp.clusterIP, ...externalDestinations(sp)]) {
    const dest = [ip, sp.port].join(' . ');
    elements.named(g.ips, dest, targetPort);
    sp.clusterEndpoints.forEach((e, i) => elements.add(g.endpoints, [dest, i].join(' . '), e.ip));
  }
  for (const ip of externalDestinations(sp)) elements.named(SET.externalIPs, destination(ip, sp));
  if (sp.nodePort !== undefined) {
    const port = String(sp.nodePort);
    elements.named(g.nodePorts, port, targetPort);
    sp.clusterEndpoints.forEach((e, i) => elements.add(g.nodePortEndpoints, [port, i].join(' . '), e.ip));
    elements.named(SET.externalNodePorts, nodePortKey(sp));
  }
  return key;
}

function addOwnEntries(plan: ServicePlan, elements: PortElements): void {
  const { sp } = plan;
  const to = (ip: string, chain: string) => elements.named(SET.serviceIPs, destination(ip, sp), `goto ${chain}`);
  if (plan.internalTarget) to(sp.clusterIP, plan.internalTarget);
  if (!plan.usesExternalChain) return;
  for (const ip of sp.externalIPs) to(ip, plan.ext);
  for (const ip of sp.loadBalancerIPs) to(ip, plan.usesFirewall ? plan.fw : plan.ext);
  if (sp.nodePort !== undefined) elements.named(SET.serviceNodePorts, nodePortKey(sp), `goto ${plan.ext}`);
}

/** The filter verdicts of a port that is not DNATed: REJECT without endpoints, DROP for Local without local endpoints or a source outside the ranges. */
function addVerdicts(plan: ServicePlan, elements: PortElements): void {
  const { sp } = plan;
  const ips = (verdict: 'REJECT' | 'DROP') => (verdict === 'REJECT' ? SET.rejectIPs : SET.dropIPs);
  if (plan.internalVerdict) elements.named(ips(plan.internalVerdict), destination(sp.clusterIP, sp));
  const external = plan.externalVerdict;
  if (external) for (const ip of sp.externalIPs) elements.named(ips(external), destination(ip, sp));
  const lbVerdict = external ?? (plan.usesFirewall ? 'DROP' : undefined);
  if (lbVerdict) for (const ip of sp.loadBalancerIPs) elements.named(ips(lbVerdict), destination(ip, sp));
  if (external && sp.nodePort !== undefined) elements.named(external === 'REJECT' ? SET.rejectNodePorts : SET.dropNodePorts, nodePortKey(sp));
}

function affinitySet(sp: ServicePortState, e: Endpoint): string {
  return affinityListName(sp, `${e.ip}:${e.port}`);
}

/** Endpoint i of n with probability 1/(n-i), the last always (an even spread); affinity first sends a known client back. */
function selectionRules(sp: ServicePortState, endpoints: readonly Endpoint[]): string[] {
  const proto = `meta l4proto ${sp.protocol}`;
  const remember = (e: Endpoint) => (sp.affinitySeconds === undefined ? '' : ` update @${affinitySet(sp, e)} { ip saddr }`);
  const sticky = sp.affinitySeconds === undefined ? [] : endpoints.map((e) => `${proto} ip saddr @${affinitySet(sp, e)}${remember(e)} dnat ip to ${e.ip}:${e.port}`);
  const spread = endpoints.map((e, i) => `${proto}${i < endpoints.length - 1 ? ` numgen random mod ${endpoints.length - i} == 0` : ''}${remember(e)} dnat ip to ${e.ip}:${e.port}`);
  return [...sticky, ...spread];
}

function externalRules(plan: ServicePlan, config: ProxyConfig): string[] {
  const mark = setMark(config.masqueradeMark);
  const rules = plan.sp.externalTrafficLocal
    ? [`ip saddr ${config.clusterCidr} goto ${plan.svc}`, `fib saddr type local ${mark}`, `fib saddr type local goto ${plan.svc}`]
    : [mark];
  return plan.externalTarget ? [...rules, `goto ${plan.externalTarget}`] : rules;
}

function ownChains(plan: ServicePlan, config: ProxyConfig): { chains: NftChain[]; sets: NftSet[] } {
  const { sp } = plan;
  const chains = plan.chains.map((name): NftChain => {
    if (name === plan.svc) return { name, rules: selectionRules(sp, sp.clusterEndpoints) };
    if (name === plan.svl) return { name, rules: selectionRules(sp, sp.localEndpoints) };
    if (name === plan.ext) return { name, rules: externalRules(plan, config) };
    return { name, rules: [`ip saddr { ${[...sp.loadBalancerSourceRanges, ...sp.loadBalancerIPs].join(', ')} } goto ${plan.ext}`] };
  });
  const used = [...(plan.chains.includes(plan.svc) ? sp.clusterEndpoints : []), ...(plan.chains.includes(plan.svl) ? sp.localEndpoints : [])];
  const sets =
    sp.affinitySeconds === undefined
      ? []
      : [...new Set(used.map((e) => affinitySet(sp, e)))].map((name): NftSet => ({ name, map: false, spec: `type ipv4_addr; flags dynamic,timeout; timeout ${sp.affinitySeconds}s;` }));
  return { chains, sets };
}

function staticSets(): NftSet[] {
  const set = (name: string, key: string): NftSet => ({ name, map: false, spec: `typeof ${key};` });
  const vmap = (name: string, key: string): NftSet => ({ name, map: true, spec: `typeof ${key} : verdict;` });
  return [
    set(SET.clusterIPs, DEST),
    set(SET.externalIPs, DEST),
    set(SET.externalNodePorts, PORT),
    vmap(SET.serviceIPs, DEST),
    vmap(SET.serviceNodePorts, PORT),
    set(SET.rejectIPs, DEST),
    set(SET.rejectNodePorts, PORT),
    set(SET.dropIPs, DEST),
    set(SET.dropNodePorts, PORT),
    set(SET.hairpin, 'ip saddr . ip daddr'),
  ];
}

function groupSets(key: string): NftSet[] {
  const g = groupNames(key);
  const pick = `numgen random mod ${parseGroupKey(key).count}`;
  return [
    { name: g.ips, map: true, spec: `typeof ${GROUP_DEST} : th dport;` },
    { name: g.endpoints, map: true, spec: `typeof ${GROUP_DEST} . ${pick} : ip daddr;` },
    { name: g.nodePorts, map: true, spec: 'typeof th dport : th dport;' },
    { name: g.nodePortEndpoints, map: true, spec: `typeof th dport . ${pick} : ip daddr;` },
  ];
}

/**
 * Each group's DNAT rule sits in a chain of its own, written only with its maps: nft 1.0.6 cannot add
 * a rule using a map that already exists in the kernel when the map's data is a typeof concatenation
 * ("conflicting protocols specified: ip vs. th", reproduced), so the chains that do change (services,
 * nodeports: when a group comes or goes) only jump.
 */
/** A group's ClusterIP traffic from outside the cluster CIDR is marked here, so its ports need no cluster-ips element. */
function groupChains(key: string, config: ProxyConfig): NftChain[] {
  const g = groupNames(key);
  const { protocol, count } = parseGroupKey(key);
  const proto = `meta l4proto ${protocol}`;
  const pick = `numgen random mod ${count}`;
  return [
    {
      name: g.chain,
      rules: [
        `${proto} ip saddr != ${config.clusterCidr} ${GROUP_DEST} @${g.ips} ${setMark(config.masqueradeMark)}`,
        `${proto} ${GROUP_DEST} @${g.ips} dnat ip to ${GROUP_DEST} . ${pick} map @${g.endpoints} : ${GROUP_DEST} map @${g.ips}`,
      ],
    },
    { name: g.nodePortChain, rules: [`${proto} th dport @${g.nodePorts} dnat ip to th dport . ${pick} map @${g.nodePortEndpoints} : th dport map @${g.nodePorts}`] },
  ];
}

function servicesRules(groups: readonly string[], config: ProxyConfig): string[] {
  const node = nodeAddressMatch(config.nodePortAddresses);
  const mark = setMark(config.masqueradeMark);
  return [
    `ip saddr != ${config.clusterCidr} ${DEST} @${SET.clusterIPs} ${mark}`,
    `${DEST} @${SET.externalIPs} ${mark}`,
    `${node} ${PORT} @${SET.externalNodePorts} ${mark}`,
    `${DEST} vmap @${SET.serviceIPs}`,
    ...groups.map((key) => `jump ${groupNames(key).chain}`),
    `${node} jump ${CHAIN.nodePorts}`,
  ];
}

function staticChains(groups: readonly string[], config: ProxyConfig): NftChain[] {
  const m = formatMark(config.masqueradeMark);
  const node = nodeAddressMatch(config.nodePortAddresses);
  const verdictsJump = `ct state new jump ${CHAIN.verdicts}`;
  return [
    { name: 'nat-prerouting', hook: 'type nat hook prerouting priority dstnat; policy accept;', rules: [`jump ${CHAIN.services}`] },
    { name: 'nat-output', hook: 'type nat hook output priority -100; policy accept;', rules: [`jump ${CHAIN.services}`] },
    { name: 'nat-postrouting', hook: 'type nat hook postrouting priority srcnat; policy accept;', rules: [`jump ${CHAIN.masquerading}`] },
    { name: 'filter-input', hook: 'type filter hook input priority filter - 1; policy accept;', rules: [verdictsJump] },
    {
      name: 'filter-forward',
      hook: 'type filter hook forward priority filter - 1; policy accept;',
      rules: [verdictsJump, 'ct state invalid drop', `meta mark & ${m} == ${m} accept`, 'ct state related,established accept'],
    },
    { name: 'filter-output', hook: 'type filter hook output priority filter - 1; policy accept;', rules: [verdictsJump] },
    { name: CHAIN.services, rules: servicesRules(groups, config) },
    { name: CHAIN.nodePorts, rules: [`${PORT} vmap @${SET.serviceNodePorts}`, ...groups.map((key) => `jump ${groupNames(key).nodePortChain}`)] },
    ...groups.flatMap((key) => groupChains(key, config)),
    {
      name: CHAIN.masquerading,
      // The mark is cleared so an encapsulated copy of the packet is not masqueraded twice.
      rules: [`ct status dnat ip saddr . ip daddr @${SET.hairpin} masquerade fully-random`, `meta mark & ${m} == 0 return`, `meta mark set meta mark ^ ${m}`, 'masquerade fully-random'],
    },
    {
      name: CHAIN.verdicts,
      rules: [`${DEST} @${SET.rejectIPs} reject`, `${node} ${PORT} @${SET.rejectNodePorts} reject`, `${DEST} @${SET.dropIPs} drop`, `${node} ${PORT} @${SET.dropNodePorts} drop`],
    },
  ];
}

function portDeclarations(sp: ServicePortState, config: ProxyConfig, sink: ElementSink): PortDeclarations {
  const elements = new PortElements(sink, sp);
  for (const e of sp.clusterEndpoints) if (mayHairpin(e, config.hostname)) elements.add(SET.hairpin, [e.ip, e.ip].join(' . '));
  if (isGrouped(sp)) {
    return { chains: [], sets: [], group: addGrouped(sp, elements) };
  }
  const plan = planServicePort(sp);
  addVerdicts(plan, elements);
  if (sp.clusterEndpoints.length === 0) return { chains: [], sets: [] };
  if (plan.internalTarget) elements.named(SET.clusterIPs, destination(sp.clusterIP, sp));
  addOwnEntries(plan, elements);
  return ownChains(plan, config);
}

export function servicePortParts(sp: ServicePortState, config: ProxyConfig): Parts {
  const lines: string[] = [];
  const declarations = portDeclarations(sp, config, { add: (set, element) => lines.push(`${set} ${element}`) });
  return { ...declarations, elements: lines };
}

/** The table of `declarations` (which fix the groups in use) holding `elements` by set. */
export function assembleTable(declarations: readonly PortDeclarations[], groups: readonly string[], config: ProxyConfig, elements: ReadonlyMap<string, readonly string[]> = new Map()): NftTable {
  const withElements = (s: NftSet): NftSet => (s.spec.includes('dynamic') ? s : { ...s, elements: elements.get(s.name) ?? [] });
  return {
    sets: [...staticSets(), ...groups.flatMap(groupSets), ...declarations.flatMap((p) => p.sets)].map(withElements),
    chains: [...staticChains(groups, config), ...declarations.flatMap((p) => p.chains)],
  };
}

/**
 * The whole table for `servicePorts` and how many ports use each endpoint-count group. Elements go
 * straight into their set's list (the core keeps destinations unique); a hairpin pair shared by
 * several ports is listed once.
 */
export function buildTable(servicePorts: readonly ServicePortState[], config: ProxyConfig): { table: NftTable; groups: Map<string, number> } {
  const bySet = new Map<string, string[]>();
  const pairs = new Set<string>();
  const elements: ElementSink = {
    add(set, element) {
      if (set === SET.hairpin) {
        if (pairs.has(element)) return;
        pairs.add(element);
      }
      const list = bySet.get(set);
      if (list) list.push(element);
      else bySet.set(set, [element]);
    },
  };
  const groups = new Map<string, number>();
  const own: PortDeclarations[] = [];
  for (const sp of servicePorts) {
    const d = portDeclarations(sp, config, elements);
    if (d.group !== undefined) groups.set(d.group, (groups.get(d.group) ?? 0) + 1);
    if (d.chains.length > 0 || d.sets.length > 0) own.push(d);
  }
  return { table: assembleTable(own, groupsOf(groups), config, bySet), groups };
}

export function buildNftTable(state: ProxyState, config: ProxyConfig): NftTable {
  return buildTable(state.servicePorts, config).table;
}
