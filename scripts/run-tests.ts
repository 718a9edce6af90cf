import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

function add(counts: Counts): void {
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
}

/** Runs one vitest project and adds its counts; false when the tier failed. */
async function vitest(name: string, spec: Tier, env: Record<string, string> = {}): Promise<boolean> {
  const report = join(reportDir, `${name}.json`);
  const run = await execa('vitest', ['run', '--project', spec.project, ...(spec.files ?? []), '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
    stdio: 'inherit',
    reject: false,
    env: { ...(spec.env ?? {}), ...env },
  });
  let summary: VitestJson | undefined;
  try {
    summary = JSON.parse(readFileSync(report, 'utf8')) as VitestJson;
  } catch {
    summary = undefined;
  }
  if (!summary) {
    add({ passed: 0, failed: 1, skipped: 0 });
    failedTiers.push(`${name} (no report, exit ${run.exitCode})`);
    return false;
  }
  add({ passed: summary.numPassedTests, failed: summary.numFailedTests, skipped: summary.numPendingTests + summary.numTodoTests });
  return run.exitCode === 0 && summary.numFailedTestSuites === 0;
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
      if (counts.failed > 0 || outcomes.length === 0) ok = false;
    }
  } catch (error) {
    console.log(`[lab] ${(error as Error).message}`);
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

if (failedTiers.length > 0) console.log(`[test] failing tiers: ${failedTiers.join(', ')}`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = failedTiers.length > 0 || totals.failed > 0 ? 1 : 0;
