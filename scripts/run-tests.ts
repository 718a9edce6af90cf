import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

// Runs the test tiers one after the other (namespace and cluster tests share the kernel and must not
// overlap), then prints one plain closing line that CI reads: "tests: N passed, N failed, N skipped".

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTestSuites: number;
  numFailedTestSuites: number;
  success: boolean;
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
};

const requested = process.argv.slice(2);
const tiers = requested.length > 0 ? requested : Object.keys(TIERS);

// Namespace and cluster tiers share the kernel, the machine's cgroups and its two cores with any other
// run (another checkout, a benchmark): one such run at a time, queued on the lock the benchmarks take.
const LOCK = '/tmp/weft-netns.lock';
if (tiers.some((t) => t !== 'unit') && !process.env.WEFT_TEST_LOCKED) {
  const locked = await execa('flock', [LOCK, process.execPath, import.meta.filename, ...tiers], { stdio: 'inherit', reject: false, env: { WEFT_TEST_LOCKED: LOCK } });
  process.exit(locked.exitCode ?? 1);
}
const reportDir = mkdtempSync(join(tmpdir(), 'weft-test-report-'));
const totals = { passed: 0, failed: 0, skipped: 0 };
const failedTiers: string[] = [];

for (const tier of tiers) {
  console.log(`[test] ${tier} tests`);
  const report = join(reportDir, `${tier}.json`);
  const spec = TIERS[tier];
  if (!spec) throw new Error(`cannot run tier "${tier}": known tiers are ${Object.keys(TIERS).join(', ')}`);
  const run = await execa('vitest', ['run', '--project', spec.project, ...(spec.files ?? []), '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
    stdio: 'inherit',
    reject: false,
    env: spec.env ?? {},
  });
  let summary: VitestJson | undefined;
  try {
    summary = JSON.parse(readFileSync(report, 'utf8')) as VitestJson;
  } catch {
    summary = undefined;
  }
  if (!summary) {
    failedTiers.push(`${tier} (no report, exit ${run.exitCode})`);
    totals.failed += 1;
    continue;
  }
  totals.passed += summary.numPassedTests;
  totals.failed += summary.numFailedTests;
  totals.skipped += summary.numPendingTests + summary.numTodoTests;
  if (run.exitCode !== 0 || summary.numFailedTestSuites > 0) failedTiers.push(tier);
}
rmSync(reportDir, { recursive: true, force: true });

if (failedTiers.length > 0) console.log(`[test] failing tiers: ${failedTiers.join(', ')}`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = failedTiers.length > 0 || totals.failed > 0 ? 1 : 0;
