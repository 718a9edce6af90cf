import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { IptablesVariant } from '../proxy/iptables/kernel.ts';
import { findK8sBinaries, startControlPlane } from '../lab/kube/control-plane.ts';
import { NetnsScope } from '../test/support/netns.ts';
import { ApiWriter } from './proxy-api.ts';
import { runCase, type CaseResult } from './proxy-case.ts';
import { churnLines, runChurn, type ChurnResult } from './proxy-churn.ts';
import { API_IP, createObjects, type ClusterContext } from './proxy-cluster.ts';
import { QUIET } from './machine-idle.ts';
import { installWeftProxy, kubeProxy, POLL_MS, weftProxy, type ProxyImplementation } from './proxy-implementations.ts';
import { withIptablesVariant } from './proxy-iptables-variant.ts';
import { HEADER, ratios, reportLines } from './proxy-report.ts';

// npm run bench:proxy (issue 8): weft-proxy and upstream kube-proxy v1.34.4, each in both modes,
// against one kube-apiserver, at N Services x E endpoints: full sync from process start, API write to
// rule in the kernel for endpoint changes, a Service added and deleted, memory and CPU, and the
// `nft -f` floor of an endpoint change. `--churn` runs the churn scenario instead. Choose sizes and
// proxies with flags to keep each run within the time others may wait for the machine lock.

const ROOT = resolve(import.meta.dirname, '..');
const PROXIES = ['weft-nftables', 'weft-iptables', 'kube-proxy-iptables', 'kube-proxy-nftables'] as const;
type ProxyChoice = (typeof PROXIES)[number];
const VARIANTS: readonly IptablesVariant[] = ['legacy', 'nft'];

function progress(line: string): void {
  process.stdout.write(`${line}\n`);
}

interface Options {
  sizes: number[];
  endpoints: number;
  proxies: ProxyChoice[];
  changes: number;
  memoryChanges: number;
  limitMs: number;
  variant: IptablesVariant;
  /** Both proxies' min-sync-period (a Go duration; both default to 1s). */
  minSyncPeriod: string;
  churn?: { services: number; rate: number; seconds: number };
}

function integer(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`cannot run: "--${flag}" takes an integer from ${min} to ${max}, got "${text}"`);
  return n;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '1000,5000,10000' },
      endpoints: { type: 'string', default: '10' },
      proxies: { type: 'string', default: PROXIES.join(',') },
      changes: { type: 'string', default: '20' },
      'memory-changes': { type: 'string', default: '100' },
      timeout: { type: 'string', default: '300' },
      'iptables-variant': { type: 'string', default: 'legacy' },
      'min-sync-period': { type: 'string', default: '1s' },
      churn: { type: 'boolean', default: false },
      'churn-services': { type: 'string', default: '1000' },
      'churn-rate': { type: 'string', default: '50' },
      'churn-seconds': { type: 'string', default: '60' },
    },
    strict: true,
  });
  const sizes = values.sizes.split(',').map((s) => integer(s, 'sizes', 1, 50_000));
  const proxies = values.proxies.split(',');
  const unknown = proxies.find((p) => !(PROXIES as readonly string[]).includes(p));
  if (unknown !== undefined) throw new Error(`cannot run: "--proxies" takes ${PROXIES.join(', ')}, got "${unknown}"`);
  const variant = values['iptables-variant'] as IptablesVariant;
  if (!VARIANTS.includes(variant)) throw new Error(`cannot run: "--iptables-variant" takes ${VARIANTS.join(' or ')}, got "${variant}"`);
  const changes = integer(values.changes, 'changes', 1, 1000);
  if (!/^\d+(ms|s)$/.test(values['min-sync-period'])) throw new Error(`cannot run: "--min-sync-period" takes a duration such as 1s or 250ms, got "${values['min-sync-period']}"`);
  return {
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    endpoints: integer(values.endpoints, 'endpoints', 1, 100),
    proxies: proxies as ProxyChoice[],
    changes,
    memoryChanges: Math.max(changes, integer(values['memory-changes'], 'memory-changes', 1, 10_000)),
    limitMs: integer(values.timeout, 'timeout', 1, 3600) * 1000,
    variant,
    minSyncPeriod: values['min-sync-period'],
    ...(values.churn
      ? { churn: { services: integer(values['churn-services'], 'churn-services', 1, 50_000), rate: integer(values['churn-rate'], 'churn-rate', 1, 500), seconds: integer(values['churn-seconds'], 'churn-seconds', 1, 3600) } }
      : {}),
  };
}

function implementations(options: Options, binDir: string, binary: string): ProxyImplementation[] {
  const settings = { variant: options.variant, minSyncPeriod: options.minSyncPeriod };
  const make: Record<ProxyChoice, () => ProxyImplementation> = {
    'weft-nftables': () => weftProxy(binary, 'nftables', settings),
    'weft-iptables': () => weftProxy(binary, 'iptables', settings),
    'kube-proxy-iptables': () => kubeProxy(binDir, 'iptables', settings),
    'kube-proxy-nftables': () => kubeProxy(binDir, 'nftables', settings),
  };
  return options.proxies.map((p) => make[p]());
}

const STAMP = new Date().toISOString().replace(/[:.]/g, '-');
const RESULTS = join(ROOT, 'bench/results');

async function withCluster<T>(scope: NetnsScope, body: (ctx: ClusterContext) => Promise<T>): Promise<T> {
  const cpNetns = await scope.create('pcp');
  await cpNetns.exec('ip', ['addr', 'add', `${API_IP}/32`, 'dev', 'lo']);
  const cp = await startControlPlane({ netns: cpNetns.path, address: API_IP, log: progress });
  const api = new ApiWriter(cp, cpNetns.path);
  try {
    mkdirSync(RESULTS, { recursive: true, mode: 0o700 });
    const logFile = (name: string) => join(RESULTS, `proxy-${STAMP}-${name}.log`);
    return await body({ cp, cpNetns, scope, api, kubeconfig: await cp.createProxyCredentials(), progress, logFile, nodes: 0 });
  } finally {
    await api.close();
    await cp.close();
  }
}

async function runSizes(ctx: ClusterContext, options: Options, impls: readonly ProxyImplementation[]): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  let created = 0;
  for (const services of options.sizes) {
    const started = performance.now();
    await createObjects(ctx, { from: created, to: services }, { endpoints: options.endpoints });
    progress(`api: ${services} Services in the API server (${((performance.now() - started) / 1000).toFixed(1)} s to create ${services - created})`);
    created = services;
    for (const impl of impls) {
      progress(`${impl.name}: ${services} Services`);
      const c = { services, endpoints: options.endpoints, changes: options.changes, memoryChanges: options.memoryChanges, limitMs: options.limitMs, changeBase: results.length * 1000 };
      const result = await withIptablesVariant(options.variant, () => runCase(ctx, impl, c));
      results.push(result);
    }
    progress(`\n${HEADER}`);
    for (const line of reportLines(services, results.filter((r) => r.services === services))) progress(line);
    progress('');
  }
  return results;
}

async function runChurns(ctx: ClusterContext, options: Options & { churn: NonNullable<Options['churn']> }, impls: readonly ProxyImplementation[]): Promise<ChurnResult[]> {
  await createObjects(ctx, { from: 0, to: options.churn.services }, { endpoints: options.endpoints });
  const results: ChurnResult[] = [];
  for (const impl of impls) {
    const c = { ...options.churn, endpoints: options.endpoints, limitMs: options.limitMs, changeBase: results.length * 100_000, variant: options.variant };
    progress(`${impl.name}: churn`);
    const r = await withIptablesVariant(options.variant, () => runChurn(ctx, impl, c));
    for (const line of churnLines(r, c)) progress(line);
    results.push(r);
  }
  return results;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const found = findK8sBinaries();
  if ('missing' in found) throw new Error(`cannot run: ${found.missing}`);
  const installed = installWeftProxy();
  const impls = implementations(options, found.binDir, installed.binary);
  const scope = new NetnsScope();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void scope.cleanup().finally(() => process.exit(130)));
  const machine = { cpus: cpus().length, node: process.version };
  const notes = [`iptables modes on iptables-${options.variant}; iptables rules are seen by listing the chain every ${POLL_MS} ms, nftables changes by nft monitor and an nftables full sync by its table showing base chains in "nft list chains" every 20 ms (a monitor doubles a large commit, even from another namespace, so none listens during a full sync or its floor); listings run by one shell in the node's namespace; each case starts once the machine is ${QUIET.idleAtLeast * 100}% idle for ${QUIET.windowMs / 1000} s; min-sync-period ${options.minSyncPeriod} for both proxies`];
  let record: Record<string, unknown>;
  try {
    record = await withCluster(scope, async (ctx) => {
      if (options.churn) return { churn: await runChurns(ctx, { ...options, churn: options.churn }, impls) };
      const results = await runSizes(ctx, options, impls);
      return { rows: options.sizes.map((services) => ({ services, results: results.filter((r) => r.services === services), ratios: ratios(results.filter((r) => r.services === services)) })) };
    });
  } finally {
    await scope.cleanup();
    installed.remove();
  }
  for (const note of notes) progress(note);
  mkdirSync(RESULTS, { recursive: true, mode: 0o700 });
  const file = join(RESULTS, `proxy-${options.churn ? 'churn-' : ''}${STAMP}.json`);
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), machine, options, notes, ...record }, null, 2)}\n`, { mode: 0o600 });
  progress(`wrote ${relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
