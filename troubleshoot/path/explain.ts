import { countRules, describeRules } from '../netfilter/iptables-ruleset.ts';
import { countNftRules } from '../netfilter/nftables-ruleset.ts';
import { formatProbability, type Branch, type Flow, type Hook } from '../netfilter/flow.ts';
import { walkHook } from '../netfilter/hooks.ts';
import type { Protocol } from '../model/target.ts';
import type { Cause, Explanation, Hop, PathBranch } from '../model/explanation.ts';
import { sysctl, sysctlName } from '../state/kernel-state.ts';
import { brNetfilterOff, forwardingOff, missingProxyRule, noRoute, rpFilterStrict } from './causes.ts';
import { proxyRuleNaming } from '../netfilter/proxy-rules.ts';
import { deliverLocally, egress } from './egress.ts';
import { packetOf, type Egress } from './egress-result.ts';
import { changedHop, serviceHop, stoppedHop } from './netfilter-hops.ts';
import type { NodeView } from './node-view.ts';
import { forwardingOn, formatRoute, lookupRoute, reversePathAccepts } from './routing.ts';
import { classifySource, type Ingress } from './source-hop.ts';

// `weft explain`'s core: one packet through this node's live state, in the kernel's order. The source
// decides the first hook (PREROUTING, or OUTPUT for the node's own packets); DNAT may fork the path
// over a Service's endpoints; each branch then meets routing (forwarding, reverse-path filtering),
// the FORWARD or INPUT hooks, POSTROUTING, and its last hop on this node. Pure: state in, answer out.

export interface ExplainRequest {
  readonly src: string;
  readonly dst: string;
  readonly dport?: number;
  readonly proto: Protocol;
  readonly size?: number;
  /** The interface the packet arrives on (the next node of a path); derived from the source otherwise. */
  readonly in?: string;
}

interface Walked {
  readonly hops: Hop[];
  /** The hook this step ran, if it ran one. */
  readonly hook?: Hook;
  readonly branch?: Branch;
  readonly end?: { readonly hop: Hop; readonly cause?: Cause; readonly outcome: 'dropped' | 'rejected' };
}

/** Runs one hook for one branch; a drop ends it, a change adds a hop. */
function runHook(view: NodeView, hook: Hook, branch: Branch, change: Partial<Flow>): Walked {
  const start = { ...branch, flow: { ...branch.flow, ...change } };
  const result = walkHook(view.evaluators, hook, [start], view.facts);
  const before = branch.hits.length;
  const [stopped] = result.stopped;
  const [accepted, ...others] = [...result.accepted].sort((a, b) => b.probability - a.probability);
  if (!accepted && stopped) {
    const hop = stoppedHop(view, hook, stopped);
    return { hops: [hop], hook, end: { hop, ...(hop.cause ? { cause: hop.cause } : {}), outcome: stopped.end === 'reject' ? 'rejected' : 'dropped' } };
  }
  if (!accepted) return { hops: [], hook };
  const merged = others.length > 0 || stopped ? { ...accepted, notes: [...accepted.notes, `${hook}: only the most likely of several outcomes is followed`] } : accepted;
  const changed = changedHop(hook, merged, before);
  return { hops: changed ? [changed] : [], hook, branch: merged };
}

function routeHop(summary: string, evidence: string[]): Hop {
  return { kind: 'route', title: 'routing', status: 'pass', summary, evidence };
}

function routeDrop(summary: string, evidence: string[], cause: Cause): Walked {
  const hop: Hop = { kind: 'route', title: 'routing', status: 'drop', summary, evidence, cause };
  return { hops: [hop], end: { hop, cause, outcome: 'dropped' } };
}

/** A branch's answer, and what its evaluation could not decide for certain. */
interface Continued {
  readonly path: PathBranch;
  readonly notes: readonly string[];
}

function finish(first: Hook | undefined, walked: Walked[], last: Egress | undefined, branch: Branch): Continued {
  const hops = walked.flatMap((w) => w.hops);
  const to = `${branch.flow.dst}${branch.flow.dport !== undefined ? `:${branch.flow.dport}` : ''}`;
  const notes = [...branch.notes, ...walked.flatMap((w) => w.branch?.notes ?? [])];
  const hooks = [...(first ? [first] : []), ...walked.flatMap((w) => (w.hook ? [w.hook] : []))];
  const common = { to, probability: branch.probability, hooks };
  const ended = walked.find((w) => w.end)?.end;
  const path: PathBranch = ended
    ? { ...common, hops, outcome: ended.outcome, ...(ended.cause ? { cause: ended.cause } : {}) }
    : !last
      ? { ...common, hops, outcome: 'dropped' }
      : {
          ...common,
          exit: { ...(branch.flow.oif ? { oif: branch.flow.oif } : {}), src: branch.flow.src },
          hops: [...hops, last.hop],
          outcome: last.outcome,
          ...(last.cause ? { cause: last.cause } : {}),
          ...(last.handoff ? { handoff: last.handoff } : {}),
        };
  return { path, notes };
}

/** The node's own packet after OUTPUT: rerouted when DNAT changed its destination, then POSTROUTING and out. */
function continueFromNode(view: NodeView, branch: Branch, size: number): Continued {
  const first: Hook = 'output';
  const { flow } = branch;
  const route = lookupRoute(view.kernel, { dst: flow.dst, src: flow.src, mark: flow.mark });
  if (route.type === 'local') {
    // Through the loopback: out (POSTROUTING), back in (PREROUTING), then INPUT.
    const post = runHook(view, 'postrouting', branch, { oif: 'lo' });
    const pre = post.branch ? runHook(view, 'prerouting', post.branch, { iif: 'lo' }) : { hops: [] };
    const input = pre.branch ? runHook(view, 'input', pre.branch, {}) : { hops: [] };
    return finish(first, [post, pre, input], input.branch ? deliverLocally(view, input.branch.flow) : undefined, input.branch ?? branch);
  }
  if (route.type !== 'unicast' || !route.route) {
    return finish(first, [routeDrop(`no route to ${flow.dst}`, [], noRoute(flow.dst, view.inClusterNetwork(flow.dst)))], undefined, branch);
  }
  const routed = { hops: [routeHop(formatRoute(route.route), [`output route of the node's own packet`])], branch };
  const post = runHook(view, 'postrouting', branch, { oif: route.dev });
  const last = post.branch ? egress(view, route.dev, { flow: post.branch.flow, size, ...(route.gateway ? { gateway: route.gateway } : {}) }) : undefined;
  return finish(first, [routed, post], last, post.branch ?? branch);
}

function bridged(view: NodeView, ingress: Ingress, flow: Flow): boolean {
  return ingress.origin === 'pod' && view.bridgeFor(flow.dst)?.name === ingress.iif && !view.facts.isLocal(flow.dst) && sysctl(view.kernel, 'net/bridge/bridge-nf-call-iptables') !== '0';
}

/** A packet that came in (PREROUTING done): bridged to a pod on the same bridge, or routed. */
function continueFromIngress(view: NodeView, ingress: Ingress, branch: Branch, size: number): Continued {
  const first: Hook = 'prerouting';
  const { flow } = branch;
  const iif = ingress.iif;
  if (bridged(view, ingress, flow)) {
    const hop = routeHop(`bridged on ${iif}: ${flow.dst} is on the same bridge`, [`net.bridge.bridge-nf-call-iptables=1: the bridged packet passes the FORWARD and POSTROUTING hooks`]);
    const forward = runHook(view, 'forward', branch, { oif: iif });
    const post = forward.branch ? runHook(view, 'postrouting', forward.branch, { oif: iif }) : { hops: [] };
    const done = post.branch ?? forward.branch ?? branch;
    const bridge = view.link(iif);
    const last = post.branch && bridge ? egress(view, bridge.name, { flow: post.branch.flow, size, ...(ingress.port ? { ingress: ingress.port } : {}) }) : undefined;
    return finish(first, [{ hops: [hop] }, forward, post], last, done);
  }
  const route = lookupRoute(view.kernel, { dst: flow.dst, src: flow.src, ...(iif ? { iif } : {}), mark: flow.mark });
  const evidence: string[] = [];
  const rp = iif ? reversePathAccepts(view.kernel, flow.src, iif) : undefined;
  if (iif && rp) evidence.push(`reverse-path filter on ${iif}: ${['off', 'strict', 'loose'][rp.mode] ?? rp.mode} (${sysctlName(rp.key)}=${rp.mode})`);
  if (route.type === 'none' || ['unreachable', 'blackhole', 'prohibit'].includes(route.type)) {
    return finish(first, [routeDrop(route.type === 'none' ? `no route to ${flow.dst}` : `${route.type} route to ${flow.dst}`, evidence, noRoute(flow.dst, view.inClusterNetwork(flow.dst)))], undefined, branch);
  }
  if (iif && rp && !rp.accepted) {
    return finish(first, [routeDrop(`reverse-path filter on ${iif} drops it`, evidence, rpFilterStrict({ key: rp.key, iif, src: flow.src, ...(rp.back.dev ? { backDev: rp.back.dev } : {}) }))], undefined, branch);
  }
  if (route.type === 'local') {
    const routed = { hops: [routeHop(`${flow.dst} is local`, evidence)] };
    const input = runHook(view, 'input', branch, {});
    return finish(first, [routed, input], input.branch ? deliverLocally(view, input.branch.flow) : undefined, input.branch ?? branch);
  }
  if (iif) {
    const forwarding = forwardingOn(view.kernel, iif);
    evidence.push(`forwarding on ${iif}: ${forwarding.on ? 'on' : 'off'} (${sysctlName(forwarding.key)})`);
    if (!forwarding.on) return finish(first, [routeDrop(`${iif} does not forward`, evidence, forwardingOff(forwarding.key))], undefined, branch);
  }
  if (ingress.origin === 'pod' && flow.dnat && route.dev === iif && sysctl(view.kernel, 'net/bridge/bridge-nf-call-iptables') === '0') {
    return finish(first, [routeDrop(`the reply cannot be translated back`, evidence, brNetfilterOff())], undefined, branch);
  }
  const routed = { hops: [routeHop(route.route ? formatRoute(route.route) : route.type, evidence)] };
  const forward = runHook(view, 'forward', branch, { oif: route.dev });
  const post = forward.branch ? runHook(view, 'postrouting', forward.branch, { oif: route.dev }) : { hops: [] };
  const last = post.branch ? egress(view, route.dev, { flow: post.branch.flow, size, ...(route.gateway ? { gateway: route.gateway } : {}), ...(ingress.port ? { ingress: ingress.port } : {}) }) : undefined;
  return finish(first, [routed, forward, post], last, post.branch ?? forward.branch ?? branch);
}

/** A Service destination the proxy's rules name but nothing translated: the path ends here, a rule is missing. */
function untranslatedService(view: NodeView, hook: Hook, branch: Branch): Continued | undefined {
  const { flow } = branch;
  const where = proxyRuleNaming(view.proxyRulesets(), { ip: flow.dst, ...(flow.dport !== undefined ? { port: flow.dport } : {}), proto: flow.proto });
  if (!where) return undefined;
  const to = `${flow.dst}:${flow.dport}`;
  const cause = missingProxyRule(`${to}/${flow.proto}`, where);
  const hop: Hop = { kind: 'service', title: `${hook.toUpperCase()} DNAT`, status: 'drop', summary: `${to} is a Service address but no rule translates it`, evidence: [where], cause };
  return { path: { to, probability: branch.probability, hooks: [hook], hops: [hop], outcome: 'dropped', cause }, notes: branch.notes };
}

/** Branches that reach the same destination the same way are one branch of the answer. */
function mergeBranches(branches: readonly Branch[]): Branch[] {
  const merged = new Map<string, Branch>();
  for (const b of branches) {
    const key = `${b.flow.src} ${b.flow.dst} ${b.flow.dport} ${b.flow.mark} ${b.flow.dnat}`;
    const seen = merged.get(key);
    merged.set(key, seen ? { ...seen, probability: seen.probability + b.probability, notes: [...new Set([...seen.notes, ...b.notes])] } : b);
  }
  return [...merged.values()];
}

function verdictOf(branches: readonly PathBranch[]): Explanation['verdict'] {
  const failed = branches.filter((b) => b.outcome === 'dropped' || b.outcome === 'rejected');
  const describe = (b: PathBranch) => {
    const share = branches.length > 1 ? formatProbability(b.probability) : '';
    if (b.outcome === 'delivered') return `${b.to}${share}: delivered`;
    if (b.outcome === 'leaves') return `${b.to}${share}: leaves ${b.handoff ? `for node ${b.handoff.node}` : 'the node'}`;
    return `${b.to}${share}: ${b.outcome}${b.cause ? ` (${b.cause.code}, see below)` : ' (no reason found)'}`;
  };
  const kind = failed.length === 0 ? 'delivered' : failed.length === branches.length ? 'dropped' : 'partly';
  const causes = new Map<string, Cause>();
  for (const b of failed) if (b.cause) causes.set(`${b.cause.code} ${b.cause.message}`, b.cause);
  return { kind, summary: branches.map(describe).join('; '), causes: [...causes.values()] };
}

function backendNote(view: NodeView): string[] {
  const legacy = countRules(view.state.rulesets.iptablesLegacy);
  const nft = countRules(view.state.rulesets.iptablesNft) + countNftRules(view.state.rulesets.nftables);
  return legacy > 0 && nft > 0 ? [`iptables-legacy holds ${legacy} rule(s) (${describeRules(view.state.rulesets.iptablesLegacy)}) beside the nf_tables rules: both run on every packet`] : [];
}

export function explainPacket(view: NodeView, request: ExplainRequest): Explanation {
  const ingress = classifySource(view, request.src, { dst: request.dst, ...(request.in ? { in: request.in } : {}) });
  // The largest packet the path must carry: the source interface's, and no more than the pods' MTU
  // (TCP's MSS and the pods' own MTU keep packets from outside within it).
  const podMtu = view.state.weft.subnetFile.env?.mtu;
  const size = request.size ?? (podMtu !== undefined ? Math.min(ingress.size, podMtu) : ingress.size);
  const flow: Flow = { src: request.src, dst: request.dst, ...(request.dport !== undefined ? { dport: request.dport } : {}), proto: request.proto, mark: 0, dnat: false, snat: false, ...(ingress.iif ? { iif: ingress.iif } : {}) };
  const start: Branch = { probability: 1, flow, hits: [], notes: [] };
  const hops: Hop[] = [ingress.hop];
  const continued: Continued[] = [];
  if (ingress.origin === 'pod' && sysctl(view.kernel, 'net/bridge/bridge-nf-call-iptables') === '0' && view.bridgeFor(request.dst)?.name === ingress.iif) {
    const bridge = view.link(ingress.iif);
    const last = bridge ? egress(view, bridge.name, { flow, size, ...(ingress.port ? { ingress: ingress.port } : {}) }) : undefined;
    hops.push(routeHop(`bridged on ${ingress.iif} without netfilter (net.bridge.bridge-nf-call-iptables=0)`, []));
    continued.push(finish(undefined, [], last, start));
  } else {
    const hook: Hook = ingress.origin === 'node' ? 'output' : 'prerouting';
    const out = ingress.origin === 'node' ? lookupRoute(view.kernel, { dst: request.dst, src: request.src }) : undefined;
    const result = walkHook(view.evaluators, hook, [out?.dev ? { ...start, flow: { ...flow, oif: out.dev } } : start], view.facts);
    const service = serviceHop(hook, result.accepted, 0);
    if (service) hops.push(service);
    for (const stopped of result.stopped) {
      const hop = stoppedHop(view, hook, stopped);
      const to = `${stopped.branch.flow.dst}${stopped.branch.flow.dport !== undefined ? `:${stopped.branch.flow.dport}` : ''}`;
      const path: PathBranch = { to, probability: stopped.branch.probability, hooks: [hook], hops: [hop], outcome: stopped.end === 'reject' ? 'rejected' : 'dropped', ...(hop.cause ? { cause: hop.cause } : {}) };
      continued.push({ path, notes: stopped.branch.notes });
    }
    for (const branch of mergeBranches(result.accepted)) {
      const untranslated = branch.flow.dnat ? undefined : untranslatedService(view, hook, branch);
      if (untranslated) {
        continued.push(untranslated);
        continue;
      }
      const changed = service ? undefined : changedHop(hook, branch, 0);
      const next = ingress.origin === 'node' ? continueFromNode(view, branch, size) : continueFromIngress(view, ingress, branch, size);
      continued.push(changed ? { ...next, path: { ...next.path, hops: [changed, ...next.path.hops] } } : next);
    }
  }
  const branches = continued.map((c) => c.path);
  const notes = [...view.state.rulesets.problems, ...backendNote(view), ...(view.state.weft.leases?.error ? [`leases: ${view.state.weft.leases.error}`] : []), ...continued.flatMap((c) => c.notes)];
  return {
    packet: packetOf(flow, size),
    node: view.state.weft.publicIp ?? '',
    source: { origin: ingress.origin, ...(ingress.iif ? { iif: ingress.iif } : {}), ...(ingress.port?.veth ? { veth: ingress.port.veth.name } : {}) },
    proxyMode: view.proxyMode(),
    hops,
    branches,
    verdict: verdictOf(branches),
    notes: [...new Set(notes)],
  };
}
