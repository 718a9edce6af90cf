import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runChecked } from '../lib/exec.ts';
import { callCni } from '../test/support/cni.ts';
import { NetnsScope, RUN_ID, type Netns } from '../test/support/netns.ts';
import { createTracer, meanPhases, readPhases, type Tracer } from './profile.ts';
import { ratio, summarize, type Summary } from './stats.ts';
import type { Phases } from './strace-phases.ts';

// npm run bench:cni: pod ADD+DEL cycles with weft's single executable and with the reference Go
// plugins, in the same run and the same way: each call is a fresh process started inside a node
// namespace (nsenter), as a runtime on that node starts it. Pod namespaces are made before timing.

const ROOT = resolve(import.meta.dirname, '..');
// WEFT_BIN_DIR (as in the tests) compares another build, e.g. an experiment, against the reference.
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

interface Samples {
  add: number[];
  del: number[];
}

const VERSION_CALLS = 20;

interface Context {
  impl: Implementation;
  node: Netns;
  config: object;
}

function pluginConfig(impl: Implementation, dataDir: string): object {
  return {
    cniVersion: '1.0.0',
    name: `bench-${impl.name}`,
    type: impl.bridge,
    bridge: `wb${RUN_ID}${impl.name[0]}`,
    isGateway: true,
    ipam: { type: impl.ipam, ranges: [[{ subnet: `10.${impl.octet}.0.0/16` }]], dataDir },
  };
}

interface Call {
  command: 'ADD' | 'DEL' | 'VERSION';
  pod: Netns;
  index: number;
  /** Run under strace through the tracer's wrapper, writing the trace to file. */
  traced?: { tracer: Tracer; file: string };
}

async function timedCall(ctx: Context, call: Call): Promise<number> {
  const { command, pod, index, traced } = call;
  const started = performance.now();
  const outcome = await callCni({
    binDir: traced?.tracer.wrapperDir ?? ctx.impl.binDir,
    cniPath: ctx.impl.binDir,
    extraEnv: traced?.tracer.env(traced.file),
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
  const tracer = createTracer(join(dir, `trace-${ctx.impl.name}`), ctx.impl.bridge, ctx.impl.binDir);
  const phases: Record<'add' | 'del', Phases[]> = { add: [], del: [] };
  for (let i = 0; i < count; i++) {
    const pod = pods[i % pods.length] as Netns;
    for (const [verb, command] of [['add', 'ADD'], ['del', 'DEL']] as const) {
      const file = join(dir, `trace-${ctx.impl.name}-${verb}-${i}.txt`);
      await timedCall(ctx, { command, pod, index: 10_000 + i, traced: { tracer, file } });
      phases[verb].push(readPhases(file, ctx.impl.bridge));
    }
  }
  return { add: meanPhases(phases.add), del: meanPhases(phases.del) };
}

async function ensureBuilt(): Promise<void> {
  if (existsSync(join(WEFT_BIN, 'weft-bridge'))) return;
  progress('dist/bin/weft-bridge missing: building');
  await runChecked(process.execPath, [join(ROOT, 'build/build.ts')]);
}

type Results = Record<string, { version: Summary; phases?: Record<'add' | 'del', Phases> } & Record<'sequential' | 'parallel', { add: Summary; del: Summary }>>;

function report(results: Results): Record<string, number> {
  const ratios: Record<string, number> = {};
  progress('\nimplementation  mode        op   p50 ms  p95 ms');
  for (const [name, modes] of Object.entries(results)) {
    progress(`${name.padEnd(15)} start-up    VER  ${modes.version.p50.toFixed(1).padStart(6)}  ${modes.version.p95.toFixed(1).padStart(6)}`);
    for (const mode of ['sequential', 'parallel'] as const) {
      for (const [op, s] of Object.entries(modes[mode])) progress(`${name.padEnd(15)} ${mode.padEnd(11)} ${op.toUpperCase().padEnd(4)} ${s.p50.toFixed(1).padStart(6)}  ${s.p95.toFixed(1).padStart(6)}`);
    }
  }
  const phaseLines = Object.entries(results).flatMap(([name, r]) =>
    Object.entries(r.phases ?? {}).map(([verb, p]) => `${name.padEnd(15)} ${verb.toUpperCase().padEnd(4)} ${p.totalMs.toFixed(1).padStart(6)} ${p.startupMs.toFixed(1).padStart(9)} ${p.childrenMs.toFixed(1).padStart(9)} (${p.children}) ${p.ownMs.toFixed(1).padStart(6)}`),
  );
  if (phaseLines.length > 0) progress(`\nunder strace (mean ms) total  start-up  children (n)    own\n${phaseLines.join('\n')}`);
  const { weft, reference } = results;
  if (!weft || !reference) return ratios;
  ratios['version.p50'] = ratio(weft.version.p50, reference.version.p50);
  for (const mode of ['sequential', 'parallel'] as const) {
    for (const op of ['add', 'del'] as const) {
      for (const stat of ['p50', 'p95'] as const) ratios[`${mode}.${op}.${stat}`] = ratio(weft[mode][op][stat], reference[mode][op][stat]);
    }
  }
  progress(`\nours/reference: ${Object.entries(ratios).map(([k, v]) => `${k}=${v}`).join('  ')}`);
  return ratios;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { sequential: { type: 'string', default: '50' }, parallel: { type: 'string', default: '50' }, concurrency: { type: 'string', default: '10' }, profile: { type: 'string', default: '5' }, only: { type: 'string' } },
  });
  const sequential = Number(values.sequential);
  const parallel = Number(values.parallel);
  const concurrency = Number(values.concurrency);
  const profile = Number(values.profile);
  if (![sequential, parallel, concurrency].every((n) => Number.isInteger(n) && n > 0 && n <= 500)) throw new Error('cannot run: --sequential, --parallel and --concurrency take integers from 1 to 500');
  if (!Number.isInteger(profile) || profile < 0 || profile > 50) throw new Error('cannot run: --profile takes an integer from 0 (off) to 50');

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
    const podCount = Math.max(sequential, parallel);
    progress(`setup: ${podCount} pod namespaces`);
    const pods: Netns[] = [];
    for (let i = 0; i < podCount; i++) pods.push(await scope.create(`bench-pod-${i}`));
    for (const impl of chosen) {
      const ctx: Context = { impl, node: await scope.create(`bench-node-${impl.name}`), config: pluginConfig(impl, join(work, impl.name)) };
      progress(`${impl.name}: warm-up, ${VERSION_CALLS} VERSION calls, ${sequential} sequential, ${parallel} parallel ADD+DEL cycles`);
      await runCycles(ctx, pods, 1, { concurrency: 1, label: 'warm-up' });
      const version = await timeVersion(ctx, pods[0] as Netns);
      const seq = await runCycles(ctx, pods, sequential, { concurrency: 1, label: 'sequential' });
      const par = await runCycles(ctx, pods, parallel, { concurrency, label: `parallel x${concurrency}` });
      const phases = profile > 0 ? await profilePhases(ctx, pods, profile, work) : undefined;
      results[impl.name] = {
        version: summarize(version),
        ...(phases ? { phases } : {}),
        sequential: { add: summarize(seq.add), del: summarize(seq.del) },
        parallel: { add: summarize(par.add), del: summarize(par.del) },
      };
    }
  } finally {
    await scope.cleanup();
    rmSync(work, { recursive: true, force: true });
  }

  const ratios = report(results);
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `cni-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const record = { date: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version }, runs: { sequential, parallel, concurrency }, results, ratios };
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  progress(`\nwrote ${relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
