import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run } from '../../lib/exec.ts';
import { k8sBinDir } from '../../scripts/k8s-tools.ts';
import type { LabCluster, ProxyMode } from './cluster.ts';

// The upstream conformance suite (e2e.test built from k8s.io/kubernetes/test/e2e at the pinned version)
// against a lab cluster: its command line, its ginkgo JSON report read back into one line per test, and
// the table `npm run conformance` prints.

/** Every [sig-network] test of the conformance profile. */
export const SIG_NETWORK_CONFORMANCE = String.raw`\[sig-network\].*\[Conformance\]`;
const ROOT = resolve(import.meta.dirname, '../..');
export const RESULTS_DIR = join(ROOT, 'test/results');

export type SpecState = 'passed' | 'failed' | 'skipped';

export interface SpecOutcome {
  name: string;
  state: SpecState;
  /** First line of the failure (or skip) message. */
  reason?: string;
  seconds: number;
}

interface GinkgoSpecReport {
  ContainerHierarchyTexts?: string[] | null;
  LeafNodeText?: string;
  LeafNodeType?: string;
  State?: string;
  RunTime?: number;
  Failure?: { Message?: string } | null;
}

/** The specs of a ginkgo JSON report that the focus selects, in report order. */
export function parseGinkgoReport(json: string, focus: RegExp): SpecOutcome[] {
  const suites = JSON.parse(json) as { SpecReports?: GinkgoSpecReport[] | null }[];
  return suites.flatMap((suite) => suite.SpecReports ?? []).flatMap((spec) => {
    if (spec.LeafNodeType !== 'It') return [];
    const name = [...(spec.ContainerHierarchyTexts ?? []), spec.LeafNodeText ?? ''].join(' ').replace(/\s+/g, ' ').trim();
    if (!focus.test(name)) return [];
    const state: SpecState = spec.State === 'passed' ? 'passed' : spec.State === 'skipped' || spec.State === 'pending' ? 'skipped' : 'failed';
    const reason = spec.Failure?.Message?.trim().split('\n')[0];
    return [{ name, state, ...(reason ? { reason } : {}), seconds: (spec.RunTime ?? 0) / 1e9 }];
  });
}

export function tally(outcomes: readonly SpecOutcome[]): Record<SpecState, number> {
  const counts: Record<SpecState, number> = { passed: 0, failed: 0, skipped: 0 };
  for (const o of outcomes) counts[o.state] += 1;
  return counts;
}

/** One table per proxy mode: test, result, and the first line of each failure's reason. */
export function renderConformanceTable(mode: string, outcomes: readonly SpecOutcome[]): string {
  const width = Math.min(110, Math.max(20, ...outcomes.map((o) => o.name.length)));
  const counts = tally(outcomes);
  const rows = outcomes.map((o) => {
    const name = o.name.length > width ? `${o.name.slice(0, width - 1)}…` : o.name.padEnd(width);
    return `${name}  ${o.state.toUpperCase().padEnd(7)}${o.state === 'passed' ? '' : `  ${o.reason ?? ''}`}`.trimEnd();
  });
  return [
    `conformance [sig-network] with weft-proxy --proxy-mode ${mode}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
    `${'test'.padEnd(width)}  result`,
    ...rows,
  ].join('\n');
}

export interface E2eRun {
  kubeconfig: string;
  k8sVersion: string;
  focus: string;
  skip?: string;
  reportFile: string;
  /** ginkgo processes running specs in parallel (1: e2e.test alone). */
  parallel: number;
}

/** The command line: e2e.test directly, or the ginkgo CLI in front of it for parallel processes. */
export function e2eCommand(options: E2eRun): { file: string; args: string[] } {
  const bin = k8sBinDir(options.k8sVersion);
  const suiteArgs = [
    `--kubeconfig=${options.kubeconfig}`,
    '--provider=skeleton',
    `--kubectl-path=${join(bin, 'kubectl')}`,
    '--disable-log-dump',
    '--dump-logs-on-failure=false',
  ];
  const ginkgo = [`focus=${options.focus}`, ...(options.skip ? [`skip=${options.skip}`] : []), `json-report=${options.reportFile}`, 'no-color', 'timeout=3h'];
  if (options.parallel <= 1) return { file: join(bin, 'e2e.test'), args: [...ginkgo.map((g) => `--ginkgo.${g}`), ...suiteArgs] };
  return { file: join(bin, 'ginkgo'), args: [`--procs=${options.parallel}`, ...ginkgo.map((g) => `--${g}`), join(bin, 'e2e.test'), '--', ...suiteArgs] };
}

export interface ConformanceOptions {
  mode: ProxyMode;
  k8sVersion: string;
  focus?: string;
  skip?: string;
  parallel?: number;
  /** Where e2e.test's output goes, line by line. */
  output?: (line: string) => void;
}

/** Runs the suite once against the cluster (in whatever proxy mode it is in) and returns one outcome per test. */
export async function runConformance(cluster: LabCluster, options: ConformanceOptions): Promise<{ outcomes: SpecOutcome[]; resultFile: string; exitCode: number }> {
  mkdirSync(RESULTS_DIR, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const reportFile = join(RESULTS_DIR, `conformance-${options.mode}-${stamp}.ginkgo.json`);
  const focus = options.focus ?? SIG_NETWORK_CONFORMANCE;
  const { file, args } = e2eCommand({ kubeconfig: cluster.kubeconfig, k8sVersion: options.k8sVersion, focus, skip: options.skip, reportFile, parallel: options.parallel ?? 1 });
  const env = { ...process.env, KUBERNETES_CONFORMANCE_TEST: 'y', PATH: `${k8sBinDir(options.k8sVersion)}:${process.env.PATH ?? ''}` };
  const logFile = reportFile.replace(/\.ginkgo\.json$/, '.log');
  const result = await run('sh', ['-c', 'log="$1"; shift; "$@" >"$log" 2>&1', 'sh', logFile, file, ...args], { env });
  let outcomes: SpecOutcome[];
  try {
    outcomes = parseGinkgoReport(readFileSync(reportFile, 'utf8'), new RegExp(focus));
  } catch (error) {
    const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-20).join('\n');
    throw new Error(`cannot read the conformance report (e2e.test exit ${result.code}; log ${logFile}): ${(error as Error).message}\n${tail}`);
  }
  const resultFile = reportFile.replace(/\.ginkgo\.json$/, '.json');
  writeFileSync(resultFile, `${JSON.stringify({ mode: options.mode, focus, exitCode: result.code, outcomes }, null, 2)}\n`, { mode: 0o600 });
  options.output?.(`e2e.test log: ${logFile}`);
  return { outcomes, resultFile, exitCode: result.code };
}
