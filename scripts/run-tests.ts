import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { clusterDown, clusterUp, setProxyMode, type ProxyMode } from '../lab/kube/cluster.ts';
import { renderConformanceTable, runConformance, tally } from '../lab/kube/conformance.ts';
import { findK8sBinaries } from '../lab/kube/control-plane.ts';

// Runs the test tiers one after the other (namespace and cluster tests share the kernel and must not
// overlap), then prints one plain closing line that CI reads: "tests: N passed, N failed, N skipped".
// The lab tier brings up a real cluster (kubelets and containerd per node), installs weft from deploy/,
// runs the e2e cases against it and the upstream [sig-network] Conformance tests (once per mode in
// WEFT_CONFORMANCE_MODES, default both), and removes the cluster.

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numFailedTestSuites: number;
  testResults: { name: string; status: string; message?: string; assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

interface Tier {
  project: string;
  files?: string[];
  env?: Record<string, string>;
}

// The cluster tier runs the proxy daemon's cases once per packet-filter backend.
const TIERS: Record<string, Tier> = {
  unit: { project: 'unit' },
  netns: { project: 'netns' },
  cluster: { project: 'cluster' },
  'cluster-nftables': { project: 'cluster', files: ['test/cluster/proxy-daemon.test.ts'], env: { WEFT_PROXY_MODE: 'nftables' } },
  lab: { project: 'e2e' },
};

const requested = process.argv.slice(2);
const tiers = requested.length > 0 ? requested : Object.keys(TIERS);
for (const tier of tiers) if (!TIERS[tier]) throw new Error(`cannot run tier "${tier}": known tiers are ${Object.keys(TIERS).join(', ')}`);

// Namespace and cluster tiers share the kernel, the machine's cgroups and its two cores with any other
// run (another checkout, a benchmark): one such run at a time, queued on the lock the benchmarks take.
const LOCK = '/tmp/weft-netns.lock';
if (tiers.some((t) => t !== 'unit') && !process.env.WEFT_TEST_LOCKED) {
  const locked = await execa('flock', [LOCK, process.execPath, import.meta.filename, ...tiers], { stdio: 'inherit', reject: false, env: { WEFT_TEST_LOCKED: LOCK } });
  process.exit(locked.exitCode ?? 1);
}

const reportDir = mkdtempSync(join(tmpdir(), 'weft-test-report-'));
const totals: Counts = { passed: 0, failed: 0, skipped: 0 };
const failedTiers: string[] = [];
// Repeated beside the closing line: CI shows only the end of a long log, and a failed or flaky case
// must be named there.
const failedTests: string[] = [];
const flakyTests: string[] = [];
const RETRIED_TIERS = new Set(['netns', 'cluster', 'cluster-nftables']);
const MAX_RETRIED = 2;

function add(counts: Counts): void {
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
}

async function runVitest(report: string, spec: Tier, env: Record<string, string>): Promise<{ summary?: VitestJson; exitCode?: number }> {
  const run = await execa('vitest', ['run', '--project', spec.project, ...(spec.files ?? []), '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
    stdio: 'inherit',
    reject: false,
    env: { ...(spec.env ?? {}), ...env },
  });
  try {
    return { summary: JSON.parse(readFileSync(report, 'utf8')) as VitestJson, exitCode: run.exitCode };
  } catch {
    return { exitCode: run.exitCode };
  }
}

function countsOf(files: VitestJson['testResults']): Counts {
  const cases = files.flatMap((file) => file.assertionResults);
  const count = (...states: string[]) => cases.filter((test) => states.includes(test.status)).length;
  return { passed: count('passed'), failed: count('failed') + files.filter((file) => file.status === 'failed' && file.assertionResults.every((t) => t.status !== 'failed')).length, skipped: count('skipped', 'pending', 'todo') };
}

/**
 * Runs one vitest project and adds its counts; false when the tier failed. In the tiers that share the
 * kernel and the machine's two cores, a file that failed runs once more (when at most MAX_RETRIED files
 * failed: more means something is broken, not unlucky); its second result counts, and a case that
 * failed only the first time is printed at the end too, so a flaky case is named rather than hidden.
 */
async function vitest(name: string, spec: Tier, env: Record<string, string> = {}): Promise<boolean> {
  const first = await runVitest(join(reportDir, `${name}.json`), spec, env);
  if (!first.summary) {
    add({ passed: 0, failed: 1, skipped: 0 });
    failedTiers.push(`${name} (no report, exit ${first.exitCode})`);
    return false;
  }
  const failedFiles = first.summary.testResults.filter((file) => file.status === 'failed');
  const retry = RETRIED_TIERS.has(name) && failedFiles.length > 0 && failedFiles.length <= MAX_RETRIED;
  if (!retry) {
    add(countsOf(first.summary.testResults));
    failedTests.push(...failuresOf(name, first.summary.testResults));
    return first.exitCode === 0 && first.summary.numFailedTestSuites === 0;
  }
  add(countsOf(first.summary.testResults.filter((file) => file.status !== 'failed')));
  console.log(`[test] ${name}: running again what failed: ${failedFiles.map((file) => relative(process.cwd(), file.name)).join(', ')}`);
  const second = await runVitest(join(reportDir, `${name}-again.json`), { ...spec, files: failedFiles.map((file) => file.name) }, env);
  if (!second.summary) {
    add({ passed: 0, failed: 1, skipped: 0 });
    failedTiers.push(`${name} (no report on the second run, exit ${second.exitCode})`);
    return false;
  }
  add(countsOf(second.summary.testResults));
  const passedAgain = second.exitCode === 0 && second.summary.numFailedTestSuites === 0;
  const failedAgain = new Set(second.summary.testResults.filter((file) => file.status === 'failed').map((file) => file.name));
  flakyTests.push(...failuresOf(name, failedFiles.filter((file) => !failedAgain.has(file.name))));
  failedTests.push(...failuresOf(`${name} (twice)`, second.summary.testResults));
  return passedAgain;
}

/** One line per failed case (or suite that failed outside its cases): tier, file, name, first line of the error. */
function failuresOf(tier: string, files: VitestJson['testResults']): string[] {
  const firstLine = (text: string | undefined) => (text ?? '').split('\n').find((line) => line.trim() !== '')?.trim().slice(0, 300) ?? '';
  const lines: string[] = [];
  for (const file of files) {
    const where = relative(process.cwd(), file.name);
    const cases = file.assertionResults.filter((test) => test.status === 'failed');
    for (const test of cases) lines.push(`${tier} ${where} > ${test.fullName}: ${firstLine(test.failureMessages[0])}`);
    if (cases.length === 0 && file.status === 'failed') lines.push(`${tier} ${where}: ${firstLine(file.message)}`);
  }
  return lines;
}

function conformanceModes(): ProxyMode[] {
  const modes = (process.env.WEFT_CONFORMANCE_MODES ?? 'iptables,nftables').split(',').filter(Boolean);
  for (const mode of modes) if (mode !== 'iptables' && mode !== 'nftables') throw new Error(`cannot run conformance: WEFT_CONFORMANCE_MODES names "${mode}"`);
  return modes as ProxyMode[];
}

/** The lab tier: a real cluster of its own (a per-run id, not the user's lab), weft from deploy/, e2e, conformance. */
async function labTier(): Promise<boolean> {
  const k8s = findK8sBinaries();
  if ('missing' in k8s) throw new Error(`cannot run the lab tier: ${k8s.missing}`);
  const id = `wt-${randomBytes(3).toString('hex')}`;
  const progress = (line: string) => console.log(`[lab] ${line}`);
  let ok = true;
  try {
    const cluster = await clusterUp({ id, install: true, mergeKubeconfig: false, progress });
    // kubectl on PATH: kubectl weft (the troubleshooting plugin under test) runs the caller's kubectl.
    const env = { KUBECONFIG: cluster.kubeconfig, WEFT_E2E_LAB: id, PATH: `${k8s.binDir}:${process.env.PATH ?? ''}` };
    ok = (await vitest('e2e', TIERS.lab as Tier, env)) && ok;
    for (const mode of conformanceModes()) {
      await setProxyMode(cluster, mode);
      const started = Date.now();
      console.log(`[lab] upstream [sig-network] Conformance, weft-proxy --proxy-mode ${mode} ...`);
      const { outcomes } = await runConformance(cluster, { mode, k8sVersion: k8s.version, parallel: Number(process.env.WEFT_CONFORMANCE_PARALLEL ?? '1'), output: progress });
      console.log(`${renderConformanceTable(mode, outcomes)}\n[lab] conformance ${mode}: ${((Date.now() - started) / 60000).toFixed(1)} min`);
      const counts = tally(outcomes);
      add(counts);
      for (const spec of outcomes) if (spec.state === 'failed') failedTests.push(`conformance ${mode} > ${spec.name}: ${spec.reason ?? ''}`);
      if (counts.failed > 0 || outcomes.length === 0) ok = false;
    }
  } catch (error) {
    console.log(`[lab] ${(error as Error).message}`);
    failedTests.push(`lab: ${(error as Error).message}`);
    add({ passed: 0, failed: 1, skipped: 0 });
    ok = false;
  } finally {
    const left = await clusterDown({ id, progress });
    if (left.length > 0) {
      console.log(`[lab] teardown left: ${left.join('; ')}`);
      add({ passed: 0, failed: 1, skipped: 0 });
      ok = false;
    }
  }
  return ok;
}

for (const tier of tiers) {
  console.log(`[test] ${tier} tests`);
  const ok = tier === 'lab' ? await labTier() : await vitest(tier, TIERS[tier] as Tier);
  if (!ok) failedTiers.push(tier);
}
rmSync(reportDir, { recursive: true, force: true });

for (const line of flakyTests) console.log(`[test] failed, then passed when run again: ${line}`);
for (const line of failedTests) console.log(`[test] failed: ${line}`);
if (failedTiers.length > 0) console.log(`[test] failing tiers: ${failedTiers.join(', ')}`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = failedTiers.length > 0 || totals.failed > 0 ? 1 : 0;
