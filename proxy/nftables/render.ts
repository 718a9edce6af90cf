import { affinityListName } from '../chain-names.ts';
import { formatMark, type ProxyConfig } from '../config.ts';
import type { Endpoint } from '../endpoints.ts';
import { planServicePort, type ServicePlan } from '../iptables/service-plan.ts';
import type { ProxyState, ServicePortState } from '../state.ts';
import { elementKey, type NftChain, type NftSet, type NftTable } from './table.ts';

// The desired `ip weft` table. Most Service ports (Cluster policies, no affinity, no source ranges)
// get no chain at all: they are elements of sets and maps grouped by endpoint count N, and one rule
// per N picks `numgen random mod N` in a map keyed by destination (NOTES "Measured anchors": 100k
// elements load in ~1 s, one endpoint change is two element lines). The few ports with affinity,
// Local policies or loadBalancerSourceRanges get per-service chains (named as the iptables ones,
// from the same ServicePlan), reached through verdict maps.

const DEST = 'ip daddr . meta l4proto . th dport';
const PORT = 'meta l4proto . th dport';

const CHAIN = {
  services: 'services',
  nodePorts: 'nodeports',
  masquerading: 'masquerading',
  verdicts: 'service-verdicts',
} as const;

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
  hairpin: 'hairpin',
} as const;

/** The sets, maps and chains of the group of Service ports with `count` endpoints. */
export function groupNames(count: number) {
  return {
    ips: `svcs-${count}`,
    endpoints: `eps-${count}`,
    nodePorts: `nodeports-${count}`,
    nodePortEndpoints: `nodeport-eps-${count}`,
    chain: `group-${count}`,
    nodePortChain: `nodeport-group-${count}`,
  };
}

/**
 * A port the grouped maps express: endpoints, Cluster policies, no affinity, no source ranges. It is
 * decided from the state alone: the ServicePlan of the others names four chains by hashing, ~120 ms
 * at 10k ports (measured) that the grouped ports do not need.
 */
function isGrouped(sp: ServicePortState): boolean {
  const external = sp.nodePort !== undefined || externalDestinations(sp).length > 0;
  const firewall = sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
  return sp.clusterEndpoints.length > 0 && sp.affinitySeconds === undefined && !sp.internalTrafficLocal && !(sp.externalTrafficLocal && external) && !firewall;
}

function destination(ip: string, sp: ServicePortState): string {
  return `${ip} . ${sp.protocol} . ${sp.port}`;
}

function nodePortKey(sp: ServicePortState): string {
  return `${sp.protocol} . ${sp.nodePort}`;
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
 * What one Service port contributes to the table: elements (`SET ELEMENT`, the element being `key`
 * or `key : value`), its own chains and sets, and its endpoint-count group. A partial sync compares
 * the parts of changed Services only, so its cost does not grow with the table.
 */
export interface Parts {
  readonly elements: readonly string[];
  readonly chains: readonly NftChain[];
  readonly sets: readonly NftSet[];
  readonly group?: number;
}

class Elements {
  readonly list: string[] = [];
  add(set: string, key: string, value?: string): void {
    this.list.push(`${set} ${value === undefined ? key : `${key} : ${value}`}`);
  }
}

function addGrouped(sp: ServicePortState, elements: Elements): number {
  const n = sp.clusterEndpoints.length;
  const g = groupNames(n);
  for (const ip of [sp.clusterIP, ...externalDestinations(sp)]) {
    elements.add(g.ips, destination(ip, sp));
    sp.clusterEndpoints.forEach((e, i) => elements.add(g.endpoints, `${destination(ip, sp)} . ${i}`, `${e.ip} . ${e.port}`));
  }
  for (const ip of externalDestinations(sp)) elements.add(SET.externalIPs, destination(ip, sp));
  if (sp.nodePort !== undefined) {
    elements.add(g.nodePorts, nodePortKey(sp));
    sp.clusterEndpoints.forEach((e, i) => elements.add(g.nodePortEndpoints, `${nodePortKey(sp)} . ${i}`, `${e.ip} . ${e.port}`));
    elements.add(SET.externalNodePorts, nodePortKey(sp));
  }
  return n;
}

function addOwnEntries(plan: ServicePlan, elements: Elements): void {
  const { sp } = plan;
  const to = (ip: string, chain: string) => elements.add(SET.serviceIPs, destination(ip, sp), `goto ${chain}`);
  if (plan.internalTarget) to(sp.clusterIP, plan.internalTarget);
  if (!plan.usesExternalChain) return;
  for (const ip of sp.externalIPs) to(ip, plan.ext);
  for (const ip of sp.loadBalancerIPs) to(ip, plan.usesFirewall ? plan.fw : plan.ext);
  if (sp.nodePort !== undefined) elements.add(SET.serviceNodePorts, nodePortKey(sp), `goto ${plan.ext}`);
}

/** The filter verdicts of a port that is not DNATed: REJECT without endpoints, DROP for Local without local endpoints or a source outside the ranges. */
function addVerdicts(plan: ServicePlan, elements: Elements): void {
  const { sp } = plan;
  const ips = (verdict: 'REJECT' | 'DROP') => (verdict === 'REJECT' ? SET.rejectIPs : SET.dropIPs);
  if (plan.internalVerdict) elements.add(ips(plan.internalVerdict), destination(sp.clusterIP, sp));
  const external = plan.externalVerdict;
  if (external) for (const ip of sp.externalIPs) elements.add(ips(external), destination(ip, sp));
  const lbVerdict = external ?? (plan.usesFirewall ? 'DROP' : undefined);
  if (lbVerdict) for (const ip of sp.loadBalancerIPs) elements.add(ips(lbVerdict), destination(ip, sp));
  if (external && sp.nodePort !== undefined) elements.add(external === 'REJECT' ? SET.rejectNodePorts : SET.dropNodePorts, nodePortKey(sp));
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

function groupSets(count: number): NftSet[] {
  const g = groupNames(count);
  const pick = `numgen random mod ${count}`;
  return [
    { name: g.ips, map: false, spec: `typeof ${DEST};` },
    { name: g.endpoints, map: true, spec: `typeof ${DEST} . ${pick} : ip daddr . th dport;` },
    { name: g.nodePorts, map: false, spec: `typeof ${PORT};` },
    { name: g.nodePortEndpoints, map: true, spec: `typeof ${PORT} . ${pick} : ip daddr . th dport;` },
  ];
}

/**
 * Each group's DNAT rule sits in a chain of its own, written only with its maps: nft 1.0.6 cannot add
 * a rule using a map that already exists in the kernel when the map's data is a typeof concatenation
 * ("conflicting protocols specified: ip vs. th", reproduced), so the chains that do change (services,
 * nodeports: when a group comes or goes) only jump.
 */
function groupChains(count: number): NftChain[] {
  const g = groupNames(count);
  const pick = `numgen random mod ${count}`;
  return [
    { name: g.chain, rules: [`${DEST} @${g.ips} dnat ip addr . port to ${DEST} . ${pick} map @${g.endpoints}`] },
    { name: g.nodePortChain, rules: [`${PORT} @${g.nodePorts} dnat ip addr . port to ${PORT} . ${pick} map @${g.nodePortEndpoints}`] },
  ];
}

function servicesRules(counts: readonly number[], config: ProxyConfig): string[] {
  const node = nodeAddressMatch(config.nodePortAddresses);
  const mark = setMark(config.masqueradeMark);
  return [
    `ip saddr != ${config.clusterCidr} ${DEST} @${SET.clusterIPs} ${mark}`,
    `${DEST} @${SET.externalIPs} ${mark}`,
    `${node} ${PORT} @${SET.externalNodePorts} ${mark}`,
    `${DEST} vmap @${SET.serviceIPs}`,
    ...counts.map((n) => `jump ${groupNames(n).chain}`),
    `${node} jump ${CHAIN.nodePorts}`,
  ];
}

function staticChains(counts: readonly number[], config: ProxyConfig): NftChain[] {
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
    { name: CHAIN.services, rules: servicesRules(counts, config) },
    { name: CHAIN.nodePorts, rules: [`${PORT} vmap @${SET.serviceNodePorts}`, ...counts.map((n) => `jump ${groupNames(n).nodePortChain}`)] },
    ...counts.flatMap(groupChains),
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

export function servicePortParts(sp: ServicePortState, config: ProxyConfig): Parts {
  const elements = new Elements();
  for (const e of sp.clusterEndpoints) elements.add(SET.hairpin, `${e.ip} . ${e.ip}`);
  if (isGrouped(sp)) {
    elements.add(SET.clusterIPs, destination(sp.clusterIP, sp));
    return { elements: elements.list, chains: [], sets: [], group: addGrouped(sp, elements) };
  }
  const plan = planServicePort(sp);
  addVerdicts(plan, elements);
  if (sp.clusterEndpoints.length === 0) return { elements: elements.list, chains: [], sets: [] };
  if (plan.internalTarget) elements.add(SET.clusterIPs, destination(sp.clusterIP, sp));
  addOwnEntries(plan, elements);
  return { elements: elements.list, ...ownChains(plan, config) };
}

/** The groups in use, ascending: they order the dispatch jumps. */
export function groupsOf(parts: Iterable<Parts>): number[] {
  const groups = new Set<number>();
  for (const p of parts) if (p.group !== undefined) groups.add(p.group);
  return [...groups].sort((a, b) => a - b);
}

/**
 * The table holding `parts` with the declarations of `groups`. Two ports claiming one key in a set
 * (the same destination twice, which the API server's allocators prevent for ClusterIPs and node
 * ports) keep the first one's element.
 */
export function assembleTable(parts: readonly Parts[], groups: readonly number[], config: ProxyConfig): NftTable {
  const bySet = new Map<string, Map<string, string>>();
  for (const p of parts) {
    for (const line of p.elements) {
      const at = line.indexOf(' ');
      const set = line.slice(0, at);
      const element = line.slice(at + 1);
      let entries = bySet.get(set);
      if (!entries) bySet.set(set, (entries = new Map()));
      const key = elementKey(element);
      if (!entries.has(key)) entries.set(key, element);
    }
  }
  const withElements = (s: NftSet): NftSet => (s.spec.includes('dynamic') ? s : { ...s, elements: [...(bySet.get(s.name)?.values() ?? [])] });
  return {
    sets: [...staticSets(), ...groups.flatMap(groupSets), ...parts.flatMap((p) => p.sets)].map(withElements),
    chains: [...staticChains(groups, config), ...parts.flatMap((p) => p.chains)],
  };
}

export function buildNftTable(state: ProxyState, config: ProxyConfig): NftTable {
  const parts = state.servicePorts.map((sp) => servicePortParts(sp, config));
  return assembleTable(parts, groupsOf(parts), config);
}
