import { countRules } from '../netfilter/iptables-ruleset.ts';
import { hasProxyChains, proxyTable } from '../netfilter/proxy-layout.ts';
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

export const DEFAULT_PROXY_HEALTHZ = '127.0.0.1:10256';

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
