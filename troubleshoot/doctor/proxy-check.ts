import { countRules } from '../netfilter/iptables-ruleset.ts';
import { hasProxyChains, proxyTable } from '../netfilter/proxy-layout.ts';
import { rejectedDestinations, undispatchedDestinations, unreachableProxyChains, type ProxyRulesets } from '../netfilter/proxy-rules.ts';
import type { NodeState } from '../state/node-state.ts';
import { check, type CheckResult } from './check.ts';

// weft-proxy's health: where its rules are, whether its health endpoint answers, and how long ago it
// last synced (its /healthz reports lastUpdated and currentTime, as kube-proxy's does). Rules nobody
// maintains any more are worse than no rules: Services keep pointing at endpoints long gone.

export interface ProxyHealth {
  /** host:port asked. */
  readonly address: string;
  readonly status?: number;
  readonly body?: string;
  readonly error?: string;
}

const DEFAULT_PROXY_HEALTHZ = '127.0.0.1:10256';

/** The proxy's health address: its --healthz-bind-address (0.0.0.0 asked on 127.0.0.1), else the default. */
export function proxyHealthAddress(args: readonly string[] | undefined): string {
  const flag = '--healthz-bind-address';
  const at = (args ?? []).findIndex((a) => a === flag || a.startsWith(`${flag}=`));
  const value = at < 0 ? undefined : (args?.[at]?.includes('=') ? args[at]?.slice(flag.length + 1) : args?.[at + 1]);
  if (!value) return DEFAULT_PROXY_HEALTHZ;
  return value.startsWith('0.0.0.0:') ? `127.0.0.1:${value.slice('0.0.0.0:'.length)}` : value;
}

export function proxyMode(state: NodeState): 'iptables' | 'nftables' | undefined {
  const { rulesets } = state;
  if (rulesets.nftables.some((t) => `${t.family} ${t.name}` === proxyTable())) return 'nftables';
  if (hasProxyChains(rulesets.iptablesNft) || (countRules(rulesets.iptablesLegacy) > 0 && hasProxyChains(rulesets.iptablesLegacy))) return 'iptables';
  return undefined;
}

export function checkProxy(state: NodeState, health: ProxyHealth | undefined, now: number): CheckResult {
  const mode = proxyMode(state);
  if (!mode && !state.weft.proxy) return check('proxy', 'skip', 'weft-proxy has programmed nothing on this node (no WEFT- chains, no ip weft table)');
  const evidence = [`rules: ${mode ? `${mode} mode` : 'none yet'}${state.weft.proxy ? `; weft-proxy pid ${state.weft.proxy.pid} in this namespace` : ''}`];
  const fix = 'check the weft-proxy Pod on this node (kubectl -n weft-system logs -l app.kubernetes.io/component=proxy)';
  if (!health || health.error !== undefined || health.status === undefined) {
    return check('proxy', 'error', `weft-proxy's rules are here but its health endpoint ${health?.address ?? DEFAULT_PROXY_HEALTHZ} does not answer${health?.error ? ` (${health.error})` : ''}: nobody keeps them up to date`, { evidence, fix });
  }
  let body: { lastUpdated?: string; currentTime?: string; healthy?: boolean } = {};
  try {
    body = JSON.parse(health.body ?? '{}');
  } catch {
    body = {};
  }
  const last = body.lastUpdated ? Date.parse(body.lastUpdated) : NaN;
  const current = body.currentTime ? Date.parse(body.currentTime) : now;
  const ago = Number.isNaN(last) || last <= 0 ? 'never' : `${Math.max(0, Math.round((current - last) / 1000))} s ago`;
  evidence.push(`GET http://${health.address}/healthz: ${health.status} ${health.body?.trim() ?? ''}`);
  if (health.status !== 200 || body.healthy === false) return check('proxy', 'error', `weft-proxy is unhealthy: last sync ${ago}`, { evidence, fix });
  return check('proxy', 'ok', `weft-proxy is healthy (${mode ?? 'no'} rules), last sync ${ago}`, { evidence });
}

function proxyRulesets(state: NodeState): ProxyRulesets {
  const { rulesets } = state;
  return { iptables: [{ engine: 'iptables-nft', ruleset: rulesets.iptablesNft }, { engine: 'iptables-legacy', ruleset: rulesets.iptablesLegacy }], nftables: rulesets.nftables };
}

/** Every chain of the proxy is reached from somewhere: one that is not lost the rule leading to it. */
export function checkProxyRules(state: NodeState): CheckResult {
  const mode = proxyMode(state);
  if (!mode) return check('proxy-rules', 'skip', 'no weft-proxy rules on this node');
  const unreachable = unreachableProxyChains(proxyRulesets(state)).map((c) => `unreachable: ${c}`);
  const undispatched = undispatchedDestinations(proxyRulesets(state)).map((d) => `not dispatched: ${d}`);
  if (unreachable.length + undispatched.length > 0) {
    return check('proxy-rules', 'error', 'weft-proxy rules are missing: some Service traffic reaches no endpoint chain', {
      evidence: [...unreachable, ...undispatched],
      fix: 'restart weft-proxy: its first sync rewrites every rule (or wait for its periodic full sync)',
    });
  }
  return check('proxy-rules', 'ok', `every weft-proxy chain is reached (${mode} mode)`);
}

/** Service addresses the proxy answers with a reject: Services without ready endpoints. */
export function checkServiceEndpoints(state: NodeState): CheckResult {
  if (!proxyMode(state)) return check('service-endpoints', 'skip', 'no weft-proxy rules on this node');
  const rejected = rejectedDestinations(proxyRulesets(state));
  if (rejected.length > 0) {
    return check('service-endpoints', 'warn', `${rejected.length} Service address(es) without endpoints: clients are refused`, {
      evidence: rejected.map((r) => `no endpoints: ${r}`),
      fix: 'kubectl get endpointslices -l kubernetes.io/service-name=NAME: check the Service\'s selector and its Pods\' readiness (or scale it up)',
    });
  }
  return check('service-endpoints', 'ok', 'every Service the proxy serves has endpoints');
}
