import { randomBytes } from 'node:crypto';
import { defineConfig } from 'vitest/config';

// One id per run, inherited by every worker, prefixes all namespace and device names.
process.env.WEFT_TEST_RUN ??= randomBytes(3).toString('hex');

// Unit tests are pure and run in parallel; namespace tests share the kernel and run one file at a time.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        test: {
          name: 'netns',
          include: ['test/netns/**/*.test.ts'],
          fileParallelism: false,
          globalSetup: ['test/support/global-teardown.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        // A real kube-apiserver and controller manager (scripts/install-k8s.ts builds them): start-up takes
        // seconds, so files share nothing and run one at a time. forks: control-plane processes die with
        // the worker process that started them (pdeathsig).
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          fileParallelism: false,
          pool: 'forks',
          globalSetup: ['test/support/global-teardown.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        // Against whatever cluster KUBECONFIG names: the cases share it, so files run one at a time.
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
