import { describe, expect, it } from 'vitest';
import { SIG_NETWORK_CONFORMANCE, e2eCommand, parseGinkgoReport, renderConformanceTable, tally } from '../../../lab/kube/conformance.ts';

const report = JSON.stringify([
  {
    SpecReports: [
      { LeafNodeType: 'SynchronizedBeforeSuite', State: 'passed', RunTime: 1e9 },
      { ContainerHierarchyTexts: ['[sig-network] Services'], LeafNodeText: 'should serve a basic endpoint from pods  [Conformance]', LeafNodeType: 'It', State: 'passed', RunTime: 12.5e9 },
      { ContainerHierarchyTexts: ['[sig-network] Services'], LeafNodeText: 'should be able to create a functioning NodePort service [Conformance]', LeafNodeType: 'It', State: 'failed', RunTime: 30e9, Failure: { Message: 'service is not reachable within 2m0s timeout on endpoint 172.18.0.3:31000\nmore detail' } },
      { ContainerHierarchyTexts: ['[sig-network] DNS'], LeafNodeText: 'should provide DNS for the cluster [Conformance]', LeafNodeType: 'It', State: 'skipped', RunTime: 0, Failure: { Message: 'Only supported for providers [gce gke]' } },
      { ContainerHierarchyTexts: ['[sig-storage] ConfigMap'], LeafNodeText: 'should be consumable [Conformance]', LeafNodeType: 'It', State: 'skipped', RunTime: 0 },
      { ContainerHierarchyTexts: ['[sig-network] Netpol'], LeafNodeText: 'should enforce policy', LeafNodeType: 'It', State: 'skipped', RunTime: 0 },
    ],
  },
]);

describe('conformance report', () => {
  const outcomes = parseGinkgoReport(report, new RegExp(SIG_NETWORK_CONFORMANCE));

  it('keeps only the focused tests, with their full names, results and first reason lines', () => {
    expect(outcomes).toEqual([
      { name: '[sig-network] Services should serve a basic endpoint from pods [Conformance]', state: 'passed', seconds: 12.5 },
      { name: '[sig-network] Services should be able to create a functioning NodePort service [Conformance]', state: 'failed', reason: 'service is not reachable within 2m0s timeout on endpoint 172.18.0.3:31000', seconds: 30 },
      { name: '[sig-network] DNS should provide DNS for the cluster [Conformance]', state: 'skipped', reason: 'Only supported for providers [gce gke]', seconds: 0 },
    ]);
    expect(tally(outcomes)).toEqual({ passed: 1, failed: 1, skipped: 1 });
  });

  it('prints one row per test with the reason of every test that did not pass', () => {
    const table = renderConformanceTable('nftables', outcomes);
    expect(table.split('\n')[0]).toBe('conformance [sig-network] with weft-proxy --proxy-mode nftables: 1 passed, 1 failed, 1 skipped');
    expect(table).toMatch(/functioning NodePort service \[Conformance\]\s+FAILED\s+service is not reachable/);
    expect(table).toMatch(/basic endpoint from pods \[Conformance\]\s+PASSED$/m);
  });

  it('runs e2e.test alone, or behind the ginkgo CLI for parallel processes', () => {
    const base = { kubeconfig: '/k', k8sVersion: 'v1.34.4', focus: 'F', reportFile: '/r.json' };
    const alone = e2eCommand({ ...base, parallel: 1 });
    expect(alone.file).toMatch(/k8s\/v1\.34\.4\/bin\/e2e\.test$/);
    expect(alone.args).toContain('--ginkgo.focus=F');
    expect(alone.args).toContain('--ginkgo.json-report=/r.json');
    expect(alone.args).toContain('--provider=skeleton');
    const parallel = e2eCommand({ ...base, parallel: 3 });
    expect(parallel.file).toMatch(/bin\/ginkgo$/);
    expect(parallel.args.slice(0, 2)).toEqual(['--procs=3', '--focus=F']);
    expect(parallel.args[parallel.args.indexOf('--') - 1]).toMatch(/e2e\.test$/);
    expect(parallel.args.slice(parallel.args.indexOf('--') + 1)).toContain('--kubeconfig=/k');
  });
});
