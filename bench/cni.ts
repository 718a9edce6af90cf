import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CNI_COMMAND_NAMES, CNI_EXECUTABLE } from '../build/links.ts';
import { runChecked } from '../lib/exec.ts';
import { NETLINK_ADDON } from '../lib/netlink/socket.ts';
import { callCni } from '../test/support/cni.ts';
import { NetnsScope, RUN_ID, type Netns } from '../test/support/netns.ts';
import { createTracer, createWrapper, meanPhases, readPhases, type Tracer } from './profile.ts';
import { ratio, summarize, type Summary } from './stats.ts';
import type { Phases } from './strace-phases.ts';

// npm run bench:cni: pod ADD+DEL cycles with weft's single executable and with the reference Go
// plugins, in the same run and the same way: each call is a fresh process started inside a node
// namespace (nsenter), as a runtime on that node starts it. Pod namespaces are made before timing.
// Two configurations: "plain" (isGateway only) and "cluster", what real clusters use (flannel's
// delegate, kindnet): isGateway, isDefaultGateway, ipMasq, hairpinMode. Each operation is also shown
// above the implementation's own start-up (its VERSION p50), the part each implementation controls;
// and the peak RSS of one ADD (GNU time's maximum resident set size).

const ROOT = resolve(import.meta.dirname, '..');
// WEFT_BIN_DIR (as in the tests) compares another build, e.g. an earlier commit, against the reference.
const WEFT_BIN = resolve(process.env.WEFT_BIN_DIR ?? join(ROOT, 'dist/bin'));
const REFERENCE_BIN = '/usr/lib/cni';

interface Implementation {
  name: 'reference' | 'weft';
  binDir: string;
  bridge: string;
  ipam: string;
  /** Second octet of the pod range, so the two implementations' bridges never share addresses. */
  octet: number;
}

const IMPLEMENTATIONS: Implementation[] = [
  { name: 'reference', binDir: REFERENCE_BIN, bridge: 'bridge', ipam: 'host-local', octet: 98 },
  { name: 'weft', binDir: WEFT_BIN, bridge: 'weft-bridge', ipam: 'weft-host-local', octet: 97 },
];

const CONFIGURATIONS = {
  plain: { isGateway: true },
  cluster: { isGateway: true, isDefaultGateway: true, ipMasq: true, hairpinMode: true },
} as const;
type ConfigurationName = keyof typeof CONFIGURATIONS;

interface Samples {
  add: number[];
  del: number[];
}

const VERSION_CALLS = 20;
const RSS_CALLS = 5;

interface Context {
  impl: Implementation;
  node: Netns;
  config: object;
}

function pluginConfig(impl: Implementation, configuration: ConfigurationName, dataDir: string): object {
  return {
    cniVersion: '1.0.0',
    name: `bench-${impl.name}`,
    type: impl.bridge,
    bridge: `wb${RUN_ID}${impl.name[0]}`,
    ...CONFIGURATIONS[configuration],
    ipam: { type: impl.ipam, ranges: [[{ subnet: `10.${impl.octet}.0.0/16` }]], dataDir },
  };
}

interface Call {
  command: 'ADD' | 'DEL' | 'VERSION';
  pod: Netns;
  index: number;
  /** Run through a wrapper (strace, GNU time), with its environment. */
  wrapped?: { binDir: string; env: Record<string, string> };
}

async function timedCall(ctx: Context, call: Call): Promise<number> {
  const { command, pod, index, wrapped } = call;
  const started = performance.now();
  const outcome = await callCni({
    binDir: wrapped?.binDir ?? ctx.impl.binDir,
    cniPath: ctx.impl.binDir,
    extraEnv: wrapped?.env,
    plugin: ctx.impl.bridge,
    command,
    config: ctx.config,
    containerId: `bench-${index}`,
    netns: pod.path,
    ifname: 'eth0',
    nodeNetns: ctx.node.path,
  });
  const elapsed = performance.now() - started;
  if (outcome.code !== 0) throw new Error(`cannot ${command} pod ${index} with ${ctx.impl.name}: exit ${outcome.code}: ${outcome.stdout.trim()} ${outcome.stderr.trim()}`);
  return elapsed;
}

async function cycle(ctx: Context, pod: Netns, index: number, samples: Samples): Promise<void> {
  samples.add.push(await timedCall(ctx, { command: 'ADD', pod, index }));
  samples.del.push(await timedCall(ctx, { command: 'DEL', pod, index }));
}

function progress(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function runCycles(ctx: Context, pods: readonly Netns[], count: number, options: { concurrency: number; label: string }): Promise<Samples> {
  const { concurrency, label } = options;
  const samples: Samples = { add: [], del: [] };
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      await cycle(ctx, pods[index % pods.length] as Netns, index, samples);
      if (++done % 10 === 0 || done === count) progress(`  ${ctx.impl.name.padEnd(9)} ${label.padEnd(12)} ${done}/${count}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return samples;
}

/** The process start-up floor: VERSION does no work beyond printing, so it times start and exit alone. */
async function timeVersion(ctx: Context, pod: Netns): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < VERSION_CALLS; i++) samples.push(await timedCall(ctx, { command: 'VERSION', pod, index: i }));
  return samples;
}

/** ADD+DEL cycles under strace, summarized as start-up / spawned programs / own work per verb. */
async function profilePhases(ctx: Context, pods: readonly Netns[], count: number, dir: string): Promise<Record<'add' | 'del', Phases>> {
  const tracer: Tracer = createTracer(join(dir, `trace-${ctx.impl.name}`), ctx.impl.bridge, ctx.impl.binDir);
  const phases: Record<'add' | 'del', Phases[]> = { add: [], del: [] };
  for (let i = 0; i < count; i++) {
    const pod = pods[i % pods.length] as Netns;
    for (const [verb, command] of [['add', 'ADD'], ['del', 'DEL']] as const) {
      const file = join(dir, `trace-${ctx.impl.name}-${verb}-${i}.txt`);
      await timedCall(ctx, { command, pod, index: 10_000 + i, wrapped: { binDir: tracer.wrapperDir, env: tracer.env(file) } });
      phases[verb].push(readPhases(file, ctx.impl.bridge));
    }
  }
  return { add: meanPhases(phases.add), del: meanPhases(phases.del) };
}

/** The largest peak RSS (KiB) of RSS_CALLS ADDs, each under GNU time (the plugin and what it waits for). */
async function peakRss(ctx: Context, pods: readonly Netns[], dir: string): Promise<number> {
  const wrapperDir = join(dir, `rss-${ctx.impl.name}`);
  const report = join(wrapperDir, 'rss.txt');
  createWrapper(wrapperDir, ctx.impl.bridge, `/usr/bin/time -f %M -o "${report}" ${join(ctx.impl.binDir, ctx.impl.bridge)} "$@"`);
  let peak = 0;
  for (let i = 0; i < RSS_CALLS; i++) {
    const pod = pods[i % pods.length] as Netns;
    await timedCall(ctx, { command: 'ADD', pod, index: 20_000 + i, wrapped: { binDir: wrapperDir, env: {} } });
    peak = Math.max(peak, Number(readFileSync(report, 'utf8').trim()));
    await timedCall(ctx, { command: 'DEL', pod, index: 20_000 + i });
  }
  return peak;
}

/**
 * The plugins as a node gets them: copied with `cp -a` into a directory of their own, as the install
 * init container copies them to /opt/cni/bin. The executable as the build leaves it in dist/bin started
 * slower here (VERSION 45-60 against 38-50 ms for the same bytes copied, parallel ADDs 2.85-3.05x
 * against 1.88-2.04x the reference's), from the way its pages sit in the page cache; a copy is what a
 * runtime runs. An older build without weft-cni has its links copied alone (one file).
 */
async function installPlugins(dir: string): Promise<string> {
  mkdirSync(dir, { mode: 0o700 });
  const files = [CNI_EXECUTABLE, ...CNI_COMMAND_NAMES, NETLINK_ADDON].map((f) => join(WEFT_BIN, f)).filter((f) => existsSync(f));
  await runChecked('cp', ['-a', ...files, dir]);
  return dir;
}

async function ensureBuilt(): Promise<void> {
  if (existsSync(join(WEFT_BIN, 'weft-bridge'))) return;
  progress('dist/bin/weft-bridge missing: building');
  await runChecked(process.execPath, [join(ROOT, 'build/build.ts')]);
}

interface Measured {
  sequential: { add: Summary; del: Summary };
  parallel: { add: Summary; del: Summary };
  /** p50 minus the implementation's VERSION p50. */
  aboveStartup: Record<'sequentialAdd' | 'sequentialDel' | 'parallelAdd', number>;
  peakRssKiB: number;
  phases?: Record<'add' | 'del', Phases>;
}

type Results = Record<string, { version: Summary; configurations: Partial<Record<ConfigurationName, Measured>> }>;

const ms = (value: number): string => value.toFixed(1).padStart(7);

function report(results: Results): Record<string, number> {
  const ratios: Record<string, number> = {};
  const { weft, reference } = results;
  progress(`\nstart-up (VERSION p50 / p95 ms): ${Object.entries(results).map(([name, r]) => `${name} ${r.version.p50.toFixed(1)} / ${r.version.p95.toFixed(1)}`).join(', ')}`);
  if (weft && reference) ratios['version.p50'] = ratio(weft.version.p50, reference.version.p50);
  for (const configuration of Object.keys(CONFIGURATIONS) as ConfigurationName[]) {
    progress(`\n${configuration}: ${JSON.stringify(CONFIGURATIONS[configuration])}`);
    progress('implementation  op                p50 ms  p95 ms  p50 - VERSION p50');
    for (const [name, r] of Object.entries(results)) {
      const m = r.configurations[configuration];
      if (!m) continue;
      for (const [label, s, above] of [
        ['ADD sequential', m.sequential.add, m.aboveStartup.sequentialAdd],
        ['DEL sequential', m.sequential.del, m.aboveStartup.sequentialDel],
        ['ADD parallel', m.parallel.add, m.aboveStartup.parallelAdd],
        ['DEL parallel', m.parallel.del, undefined],
      ] as const) {
        progress(`${name.padEnd(15)} ${label.padEnd(16)} ${ms(s.p50)} ${ms(s.p95)}  ${above === undefined ? '' : ms(above)}`);
      }
      progress(`${name.padEnd(15)} ${'peak RSS of ADD'.padEnd(16)} ${(m.peakRssKiB / 1024).toFixed(1).padStart(7)} MiB`);
    }
    const w = weft?.configurations[configuration];
    const ref = reference?.configurations[configuration];
    if (w && ref) {
      ratios[`${configuration}.add.aboveStartup`] = ratio(w.aboveStartup.sequentialAdd, ref.aboveStartup.sequentialAdd);
      ratios[`${configuration}.del.aboveStartup`] = ratio(w.aboveStartup.sequentialDel, ref.aboveStartup.sequentialDel);
      ratios[`${configuration}.add.p50`] = ratio(w.sequential.add.p50, ref.sequential.add.p50);
      ratios[`${configuration}.parallelAdd.p50`] = ratio(w.parallel.add.p50, ref.parallel.add.p50);
      ratios[`${configuration}.peakRss`] = ratio(w.peakRssKiB, ref.peakRssKiB);
      progress(`weft/reference: ADD above start-up ${ratios[`${configuration}.add.aboveStartup`]} (target <= 1.2), parallel ADD x10 p50 ${ratios[`${configuration}.parallelAdd.p50`]} (target <= 2.5), ADD p50 ${ratios[`${configuration}.add.p50`]}, DEL above start-up ${ratios[`${configuration}.del.aboveStartup`]}, peak RSS ${ratios[`${configuration}.peakRss`]}`);
    }
    const phaseLines = Object.entries(results).flatMap(([name, r]) =>
      Object.entries(r.configurations[configuration]?.phases ?? {}).map(([verb, p]) => `${name.padEnd(15)} ${verb.toUpperCase().padEnd(4)} ${p.totalMs.toFixed(1).padStart(6)} ${p.startupMs.toFixed(1).padStart(9)} ${p.childrenMs.toFixed(1).padStart(9)} (${p.children}) ${p.ownMs.toFixed(1).padStart(6)}`),
    );
    if (phaseLines.length > 0) progress(`under strace (mean ms) total  start-up  children (n)    own\n${phaseLines.join('\n')}`);
  }
  return ratios;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sequential: { type: 'string', default: '30' },
      parallel: { type: 'string', default: '30' },
      concurrency: { type: 'string', default: '10' },
      profile: { type: 'string', default: '0' },
      only: { type: 'string' },
      configurations: { type: 'string', default: 'plain,cluster' },
    },
  });
  const sequential = Number(values.sequential);
  const parallel = Number(values.parallel);
  const concurrency = Number(values.concurrency);
  const profile = Number(values.profile);
  if (![sequential, parallel, concurrency].every((n) => Number.isInteger(n) && n > 0 && n <= 500)) throw new Error('cannot run: --sequential, --parallel and --concurrency take integers from 1 to 500');
  if (!Number.isInteger(profile) || profile < 0 || profile > 50) throw new Error('cannot run: --profile takes an integer from 0 (off) to 50');
  const configurations = values.configurations.split(',') as ConfigurationName[];
  const unknown = configurations.find((c) => !(c in CONFIGURATIONS));
  if (unknown !== undefined) throw new Error(`cannot run: --configurations "${unknown}" names no configuration (${Object.keys(CONFIGURATIONS).join(', ')})`);

  const chosen = IMPLEMENTATIONS.filter((impl) => values.only === undefined || impl.name === values.only);
  if (chosen.length === 0) throw new Error(`cannot run: --only "${values.only}" names no implementation (reference, weft)`);
  if (chosen.some((impl) => impl.name === 'weft')) await ensureBuilt();
  const scope = new NetnsScope();
  const work = mkdtempSync(join(tmpdir(), 'weft-bench-'));
  // An interrupted run still removes its namespaces and files.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void scope.cleanup().finally(() => {
        rmSync(work, { recursive: true, force: true });
        process.exit(130);
      });
    });
  }
  const results: Results = {};
  try {
    const installed = chosen.some((impl) => impl.name === 'weft') ? await installPlugins(join(work, 'opt-cni-bin')) : undefined;
    const implementations = chosen.map((impl) => (impl.name === 'weft' && installed ? { ...impl, binDir: installed } : impl));
    const podCount = Math.max(sequential, parallel, RSS_CALLS);
    progress(`setup: ${podCount} pod namespaces`);
    const pods: Netns[] = [];
    for (let i = 0; i < podCount; i++) pods.push(await scope.create(`bench-pod-${i}`));
    for (const impl of implementations) {
      const node = await scope.create(`bench-node-${impl.name}`);
      const version = await timeVersion({ impl, node, config: pluginConfig(impl, 'plain', join(work, impl.name)) }, pods[0] as Netns);
      const versionP50 = summarize(version).p50;
      results[impl.name] = { version: summarize(version), configurations: {} };
      for (const configuration of configurations) {
        const ctx: Context = { impl, node, config: pluginConfig(impl, configuration, join(work, impl.name, configuration)) };
        progress(`${impl.name}, ${configuration}: warm-up, ${sequential} sequential, ${parallel} parallel ADD+DEL cycles, ${RSS_CALLS} ADDs under GNU time`);
        await runCycles(ctx, pods, 1, { concurrency: 1, label: 'warm-up' });
        const seq = await runCycles(ctx, pods, sequential, { concurrency: 1, label: 'sequential' });
        const par = await runCycles(ctx, pods, parallel, { concurrency, label: `parallel x${concurrency}` });
        const peakRssKiB = await peakRss(ctx, pods, work);
        const phases = profile > 0 ? await profilePhases(ctx, pods, profile, work) : undefined;
        const measured: Measured = {
          sequential: { add: summarize(seq.add), del: summarize(seq.del) },
          parallel: { add: summarize(par.add), del: summarize(par.del) },
          aboveStartup: { sequentialAdd: 0, sequentialDel: 0, parallelAdd: 0 },
          peakRssKiB,
          ...(phases ? { phases } : {}),
        };
        measured.aboveStartup = {
          sequentialAdd: measured.sequential.add.p50 - versionP50,
          sequentialDel: measured.sequential.del.p50 - versionP50,
          parallelAdd: measured.parallel.add.p50 - versionP50,
        };
        results[impl.name]!.configurations[configuration] = measured;
      }
    }
  } finally {
    await scope.cleanup();
    rmSync(work, { recursive: true, force: true });
  }

  const ratios = report(results);
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `cni-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const record = { date: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version }, weftBinDir: WEFT_BIN, runs: { sequential, parallel, concurrency, configurations }, results, ratios };
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  progress(`\nwrote ${relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
