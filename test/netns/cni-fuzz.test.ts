import { afterAll, describe, expect, it } from 'vitest';
import { describeFailures, runKernelFuzz } from '../fuzz/cni-kernel.ts';
import { fuzzSeed } from '../fuzz/random.ts';
import { weftBinDir } from '../support/cni.ts';
import { deleteNetns, NetnsScope } from '../support/netns.ts';

// 1,000 generated configs and environments through the real executables (weft-bridge,
// weft-host-local, weft-vxlan), each ADD followed by DEL for a fresh pod namespace, four node
// namespaces at a time. `npm run fuzz -- --cases N --seed S` runs more, and the reference plugins.
// Reproduce a failure with WEFT_FUZZ_SEED=<seed>.

const CASES = Number(process.env.WEFT_FUZZ_CASES ?? 1_000);
const SEED = fuzzSeed(20261201);
const scope = new NetnsScope();
afterAll(() => scope.cleanup());

describe('CNI fuzz, kernel tier', () => {
  it(`leaves nothing behind after ${CASES} generated ADD+DEL pairs (seed ${SEED}), answers as the spec says, within every deadline, and GC still succeeds`, async () => {
    const summary = await runKernelFuzz({
      seed: SEED,
      cases: CASES,
      workers: 4,
      batch: 25,
      implementation: 'weft',
      binDir: weftBinDir(),
      timeoutMs: 10_000,
      createNetns: (suffix) => scope.create(suffix),
      deleteNetns: (netns) => deleteNetns(netns.name),
    });
    expect(summary.ran).toBe(CASES);
    expect(describeFailures(summary), `seed ${SEED}: reproduce with WEFT_FUZZ_SEED=${SEED}`).toBe('');
  }, 1_800_000);
});
