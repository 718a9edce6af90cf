import { describe, expect, it } from 'vitest';
import { generateCniCase } from '../../fuzz/cni-corpus.ts';
import { UNIT_PATHS, validateCniCase } from '../../fuzz/cni-validation.ts';
import { fuzzSeed } from '../../fuzz/random.ts';

// 10,000 generated configs and environments through validation and the pure renderers (the kernel
// tier runs 1,000 through the real executables). Reproduce a failure with WEFT_FUZZ_SEED=<seed>.

const CASES = 10_000;
const SEED = fuzzSeed(20261201);

describe('CNI fuzz, validation tier', () => {
  it(`answers ${CASES} generated ADDs (seed ${SEED}) with the spec's error or lines the tools read back exactly`, async () => {
    const failures: string[] = [];
    const codes = new Map<number, number>();
    for (let index = 0; index < CASES; index++) {
      const c = generateCniCase(SEED, index, UNIT_PATHS);
      const outcome = await validateCniCase(c);
      codes.set(outcome.code === 0 ? 0 : ((outcome.json as { code?: number } | undefined)?.code ?? -1), (codes.get(outcome.code) ?? 0) + 1);
      if (outcome.problems.length) failures.push(`case ${index} (${c.plugin}; ${c.mutations.join(' + ')}): ${outcome.problems.join('; ')}`);
    }
    expect(failures, `seed ${SEED}: reproduce with WEFT_FUZZ_SEED=${SEED}`).toEqual([]);
  }, 300_000);
});
