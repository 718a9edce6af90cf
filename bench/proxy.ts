import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { IptablesBackend } from '../proxy/apply-iptables.ts';
import { findK8sBinaries, startControlPlane } from '../lab/kube/control-plane.ts';
import { NetnsScope } from '../test/support/netns.ts';
import { API_IP, createObjects, runClusterCase, type ClusterContext, type ClusterResult, type ProxyImplementation } from './proxy-cluster.ts';
import { withBackend } from './proxy-backend.ts';
import { runFloorCase, runNftablesCase, type FloorResult, type NftablesFloorResult } from './proxy-floor.ts';
import { kubeProxy, weftProxy } from './proxy-implementations.ts';
import { ratio } from './stats.ts';

// npm run bench:proxy (GitHub issue 3): for N Services x E endpoints, weft's full sync and one endpoint
// change against the floor (the same payload through iptables-restore alone) and against upstream
// kube-proxy in iptables mode on the same API server, in the same run. Every case is bounded by
// --timeout; a case past it prints "> limit".

const ROOT = resolve(import.meta.dirname, '..');
const BACKENDS: readonly IptablesBackend[] = ['nft', 'legacy'];

function progress(line: string): void {
  process.stdout.write(`${line}\n`);
}

interface Options {
  sizes: number[];
  endpoints: number;
  limitMs: number;
  skipKubeProxy: boolean;
  backends: IptablesBackend[];
  clusterBackend: IptablesBackend;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '1000,5000,10000' },
      endpoints: { type: 'string', default: '10' },
      timeout: { type: 'string', default: '300' },
      'skip-kube-proxy': { type: 'boolean', default: false },
      backends: { type: 'string', default: BACKENDS.join(',') },
      'cluster-backend': { type: 'string', default: 'nft' },
    },
    strict: true,
  });
  const sizes = values.sizes.split(',').map(Number);
  if (!sizes.every((n) => Number.isInteger(n) && n >= 1 && n <= 50_000)) throw new Error(`cannot run: "--sizes" takes integers from 1 to 50000, got "${values.sizes}"`);
  const endpoints = Number(values.endpoints);
  if (!Number.isInteger(endpoints) || endpoints < 1 || endpoints > 100) throw new Error(`cannot run: "--endpoints" takes an integer from 1 to 100, got "${values.endpoints}"`);
  const timeout = Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout < 1 || timeout > 3600) throw new Error(`cannot run: "--timeout" takes seconds from 1 to 3600, got "${values.timeout}"`);
  const backends = values.backends.split(',') as IptablesBackend[];
  if (!backends.every((b) => BACKENDS.includes(b))) throw new Error(`cannot run: "--backends" takes ${BACKENDS.join(', ')}, got "${values.backends}"`);
  const clusterBackend = values['cluster-backend'] as IptablesBackend;
  if (!BACKENDS.includes(clusterBackend)) throw new Error(`cannot run: "--cluster-backend" takes ${BACKENDS.join(' or ')}, got "${clusterBackend}"`);
  return { sizes: [...new Set(sizes)].sort((a, b) => a - b), endpoints, limitMs: timeout * 1000, skipKubeProxy: values['skip-kube-proxy'], backends, clusterBackend };
}

const ms = (value: number | undefined): string => (value === undefined ? '> limit' : value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${value.toFixed(value < 100 ? 1 : 0)} ms`);

async function runNftablesFloor(scope: NetnsScope, options: Options): Promise<NftablesFloorResult[]> {
  const results: NftablesFloorResult[] = [];
  for (const services of options.sizes) {
    progress(`floor: ${services} Services x ${options.endpoints} endpoints, nftables`);
    const r = await runNftablesCase(scope, { services, endpoints: options.endpoints });
    progress(`  weft full sync ${ms(r.fullSyncMs)} (${r.payloadLines} lines), endpoint change ${ms(r.endpointChangeMs)} (${r.endpointChangeLines} lines)`);
    results.push(r);
  }
  return results;
}

async function runFloor(scope: NetnsScope, options: Options): Promise<FloorResult[]> {
  const results: FloorResult[] = [];
  for (const services of options.sizes) {
    for (const backend of options.backends) {
      progress(`floor: ${services} Services x ${options.endpoints} endpoints, iptables-${backend}`);
      const r = await runFloorCase(scope, { services, endpoints: options.endpoints, backend, limitMs: options.limitMs });
      progress(`  state ${ms(r.stateMs)}, render ${ms(r.renderMs)}, weft full sync ${ms(r.fullSyncMs)}, restore alone ${ms(r.floorMs)}, endpoint change ${ms(r.endpointChangeMs)} (its restore alone ${ms(r.endpointChangeFloorMs)}), ${r.payloadLines} lines`);
      results.push(r);
    }
  }
  return results;
}

async function runCluster(scope: NetnsScope, options: Options, implementations: readonly ProxyImplementation[]): Promise<ClusterResult[]> {
  const cpNetns = await scope.create('pcp');
  await cpNetns.exec('ip', ['addr', 'add', `${API_IP}/32`, 'dev', 'lo']);
  const cp = await startControlPlane({ netns: cpNetns.path, address: API_IP, log: progress });
  const results: ClusterResult[] = [];
  try {
    const ctx: ClusterContext = { cp, cpNetns, scope, kubeconfig: await cp.createProxyCredentials(), nodes: 0 };
    let created = 0;
    // Full sync time grows faster than the Service count: past the limit at one size, past it at the next.
    const pastLimit = new Map<string, number>();
    for (const services of options.sizes) {
      const started = performance.now();
      await createObjects(cp, { from: created, to: services }, { endpoints: options.endpoints, progress });
      progress(`api: ${services} Services in the API server (${ms(performance.now() - started)} to create ${services - created})`);
      created = services;
      for (const impl of implementations) {
        const smaller = pastLimit.get(impl.name);
        if (smaller !== undefined) {
          const skipped = `not run: its full sync of ${smaller} Services already passed the limit`;
          progress(`${impl.name}: ${services} Services ${skipped}`);
          results.push({ proxy: impl.name, services, skipped });
          continue;
        }
        progress(`${impl.name}: ${services} Services, iptables-${options.clusterBackend}, limit ${ms(options.limitMs)}`);
        const c = { services, endpoints: options.endpoints, limitMs: options.limitMs, change: results.length };
        const r = await withBackend(options.clusterBackend, () => runClusterCase(ctx, impl, c));
        if (r.fullSyncMs === undefined) pastLimit.set(impl.name, services);
        progress(`  full sync ${ms(r.fullSyncMs)}, endpoint change ${r.fullSyncMs === undefined ? 'not measured' : ms(r.endpointChangeMs)}, RSS ${r.rssMiB ?? '?'} MiB`);
        results.push(r);
      }
    }
  } finally {
    await cp.close();
  }
  return results;
}

function table(floor: readonly FloorResult[], nftables: readonly NftablesFloorResult[], cluster: readonly ClusterResult[], options: Options): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  progress('\nServices  what                                   full sync   endpoint change   RSS MiB');
  for (const services of options.sizes) {
    for (const f of floor.filter((r) => r.services === services)) {
      progress(`${String(services).padStart(8)}  weft sync code, no API, iptables-${f.backend.padEnd(6)}        ${ms(f.fullSyncMs).padStart(9)}   ${ms(f.endpointChangeMs).padStart(15)}`);
      const over = (a: number, b?: number) => (b ? ratio(a, b) : '-');
      progress(`${String(services).padStart(8)}  floor: restore alone, iptables-${f.backend.padEnd(6)}       ${ms(f.floorMs).padStart(9)}   ${ms(f.endpointChangeFloorMs).padStart(15)}             weft/floor ${over(f.fullSyncMs, f.floorMs)}, ${over(f.endpointChangeMs, f.endpointChangeFloorMs)}`);
    }
    const nft = nftables.find((r) => r.services === services);
    if (nft) {
      progress(`${String(services).padStart(8)}  weft sync code, no API, nftables              ${ms(nft.fullSyncMs).padStart(9)}   ${ms(nft.endpointChangeMs).padStart(15)}`);
      for (const f of floor.filter((r) => r.services === services)) {
        progress(`${String(services).padStart(8)}  nftables/iptables-${f.backend.padEnd(6)}: full sync ${ratio(nft.fullSyncMs, f.fullSyncMs)}, endpoint change ${ratio(nft.endpointChangeMs, f.endpointChangeMs)}`);
      }
    }
    const of = (name: string) => cluster.find((r) => r.services === services && r.proxy === name);
    for (const r of cluster.filter((c) => c.services === services)) {
      progress(`${String(services).padStart(8)}  ${`${r.proxy}, iptables-${options.clusterBackend}`.padEnd(37)}  ${ms(r.fullSyncMs).padStart(9)}   ${(r.fullSyncMs === undefined ? '-' : ms(r.endpointChangeMs)).padStart(15)}   ${String(r.rssMiB ?? '-').padStart(7)}${r.skipped ? `   (${r.skipped})` : ''}`);
    }
    const weft = of('weft-proxy');
    const upstream = of('kube-proxy');
    const pair = (a?: number, b?: number) => (a !== undefined && b !== undefined ? ratio(a, b) : undefined);
    // kube-proxy past the limit while weft finished: the ratio is at most weft / limit.
    const fullSyncBound = upstream && !upstream.skipped && upstream.fullSyncMs === undefined && weft?.fullSyncMs !== undefined ? `< ${ratio(weft.fullSyncMs, options.limitMs)}` : undefined;
    const row = {
      services,
      floor: floor.filter((r) => r.services === services),
      nftables: nft,
      cluster: cluster.filter((r) => r.services === services),
      ratios: { fullSyncWeftOverKubeProxy: pair(weft?.fullSyncMs, upstream?.fullSyncMs) ?? fullSyncBound, endpointChangeWeftOverKubeProxy: pair(weft?.endpointChangeMs, upstream?.endpointChangeMs), rssWeftOverKubeProxy: pair(weft?.rssMiB, upstream?.rssMiB) },
    };
    if (weft && upstream) progress(`${String(services).padStart(8)}  weft/kube-proxy: full sync ${row.ratios.fullSyncWeftOverKubeProxy ?? '-'}, endpoint change ${row.ratios.endpointChangeWeftOverKubeProxy ?? '-'}, RSS ${row.ratios.rssWeftOverKubeProxy ?? '-'}`);
    rows.push(row);
  }
  return rows;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const scope = new NetnsScope();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void scope.cleanup().finally(() => process.exit(130)));
  const found = findK8sBinaries();
  const weft = await weftProxy();
  const implementations: ProxyImplementation[] = [];
  const notes: string[] = [];
  if (options.skipKubeProxy) notes.push('kube-proxy: skipped (--skip-kube-proxy)');
  else if ('missing' in found) notes.push(`kube-proxy: not available: ${found.missing}`);
  else implementations.push(kubeProxy(found.binDir));
  if ('unavailable' in weft) notes.push(`weft-proxy daemon: not available (${weft.unavailable})`);
  else implementations.push(weft);
  if ('missing' in found && implementations.length > 0) implementations.splice(0);
  for (const note of notes) progress(note);

  let floor: FloorResult[] = [];
  let nftables: NftablesFloorResult[] = [];
  let cluster: ClusterResult[] = [];
  try {
    floor = await runFloor(scope, options);
    nftables = await runNftablesFloor(scope, options);
    if (implementations.length > 0) cluster = await runCluster(scope, options, implementations);
  } finally {
    await scope.cleanup();
  }
  const rows = table(floor, nftables, cluster, options);
  for (const note of notes) progress(note);
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `proxy-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const record = { date: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version }, options: { ...options, limitMs: options.limitMs }, notes, rows };
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  progress(`\nwrote ${relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
