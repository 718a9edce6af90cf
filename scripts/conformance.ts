import { flag, parseFlags } from '../lib/flags.ts';
import { attachCluster, clusterDown, clusterUp, setProxyMode, type LabCluster, type ProxyMode } from '../lab/kube/cluster.ts';
import { findK8sBinaries } from '../lab/kube/control-plane.ts';
import { renderConformanceTable, runConformance, tally } from '../lab/kube/conformance.ts';
import { labDir, readLabState } from '../lab/kube/lab-state.ts';
import { DEFAULT_LAB_ID } from '../lab/kube/topology.ts';

// npm run conformance: the upstream [sig-network] Conformance tests against the lab cluster, once per
// weft-proxy mode, one table per mode. Uses the running lab (npm run cluster:up -- --install) or brings
// one up and removes it afterwards (--keep leaves it).
//
//   npm run conformance -- [--proxy-mode iptables|nftables] [--parallel N] [--focus REGEX] [--id ID] [--keep]

const FLAGS = {
  'proxy-mode': flag.oneOf<ProxyMode | ''>(['iptables', 'nftables'], { fallback: '' }),
  parallel: flag.integer({ min: 1, max: 16 }, { fallback: 1 }),
  focus: flag.string({ expectation: 'a ginkgo regular expression' }),
  skip: flag.string({ expectation: 'a ginkgo regular expression' }),
  id: flag.string({ expectation: 'a lab id' }, { fallback: DEFAULT_LAB_ID }),
  keep: flag.boolean(),
};

async function main(): Promise<number> {
  const { values } = parseFlags(process.argv.slice(2), FLAGS);
  const requested = values['proxy-mode'];
  const modes: ProxyMode[] = requested ? [requested] : ['iptables', 'nftables'];
  const k8s = findK8sBinaries();
  if ('missing' in k8s) throw new Error(`cannot run conformance: ${k8s.missing}`);

  const ours = !readLabState(labDir(values.id));
  const cluster: LabCluster = ours ? await clusterUp({ id: values.id, install: true, proxyMode: modes[0] }) : attachCluster(values.id);
  let failed = 0;
  try {
    for (const mode of modes) {
      await setProxyMode(cluster, mode);
      const started = Date.now();
      process.stdout.write(`[conformance] weft-proxy --proxy-mode ${mode}: running e2e.test (${values.focus || '[sig-network] [Conformance]'}) ...\n`);
      const { outcomes, resultFile } = await runConformance(cluster, { mode, k8sVersion: k8s.version, focus: values.focus || undefined, skip: values.skip || undefined, parallel: values.parallel as number, output: (l) => process.stdout.write(`[conformance] ${l}\n`) });
      process.stdout.write(`${renderConformanceTable(mode, outcomes)}\n[conformance] ${mode}: ${((Date.now() - started) / 60000).toFixed(1)} min; results in ${resultFile}\n`);
      failed += tally(outcomes).failed + (outcomes.length === 0 ? 1 : 0);
    }
  } finally {
    if (ours && !values.keep) await clusterDown({ id: values.id });
  }
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`conformance: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
