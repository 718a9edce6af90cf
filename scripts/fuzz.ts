import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomInt } from 'node:crypto';
import { flag, parseFlags } from '../lib/flags.ts';
import { deleteNetns, NetnsScope } from '../lab/netns.ts';
import { generateCniCase } from '../test/fuzz/cni-corpus.ts';
import { describeFailures, runKernelFuzz, type KernelFuzzSummary } from '../test/fuzz/cni-kernel.ts';
import { UNIT_PATHS, validateCniCase } from '../test/fuzz/cni-validation.ts';

// `npm run fuzz -- [--cases N] [--seed S] [--tier unit|kernel] [--reference | --reference-only] [--workers N]`: the CNI
// fuzz suite beyond what CI runs. The kernel tier uses the built executable (dist/bin, or
// WEFT_BIN_DIR); --reference runs the same corpus through the reference bridge and host-local too and
// prints both side by side. Results go to bench/results/fuzz-<seed>-<cases>.json.

const ROOT = resolve(import.meta.dirname, '..');
const { values: v } = parseFlags(process.argv.slice(2), {
  cases: flag.integer({ min: 1, max: 1_000_000 }, { fallback: 1000 }),
  seed: flag.integer({ min: 0, max: 4_294_967_295 }, { fallback: randomInt(2 ** 31) }),
  tier: flag.oneOf(['unit', 'kernel'] as const, { fallback: 'kernel' }),
  reference: flag.boolean(),
  'reference-only': flag.boolean(),
  workers: flag.integer({ min: 1, max: 16 }, { fallback: 4 }),
});
const cases = v.cases!;
const seed = v.seed!;
console.log(`[fuzz] seed ${seed}, ${cases} cases, ${v.tier} tier (reproduce: npm run fuzz -- --seed ${seed} --cases ${cases} --tier ${v.tier})`);

async function unitTier(): Promise<number> {
  let failing = 0;
  for (let index = 0; index < cases; index++) {
    const c = generateCniCase(seed, index, UNIT_PATHS);
    const outcome = await validateCniCase(c);
    if (outcome.problems.length) {
      failing++;
      if (failing <= 50) console.log(`case ${index} (${c.plugin}; ${c.mutations.join(' + ')}): ${outcome.problems.join('; ')}`);
    }
  }
  console.log(`[fuzz] unit tier: ${cases} cases, ${failing} failing`);
  return failing;
}

function line(s: KernelFuzzSummary): string {
  const kinds = Object.entries(s.byProblem).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  const notRun = Object.entries(s.notRun).map(([why, n]) => `${n} not run: ${why}`).join('; ');
  return `${s.implementation.padEnd(9)} ran ${s.ran}, ADD ok ${s.addSucceeded}, ADD refused ${s.addFailed}, failing cases ${s.failures.length} (${kinds}), ${s.seconds.toFixed(0)} s${notRun ? `; ${notRun}` : ''}`;
}

async function kernelTier(): Promise<number> {
  const scope = new NetnsScope(`wf-${seed.toString(36)}-`);
  const common = { seed, cases, workers: v.workers!, batch: 25, timeoutMs: 10_000, createNetns: (s: string) => scope.create(s), deleteNetns: (n: { name: string }) => deleteNetns(n.name), progress: (l: string) => console.log(l) };
  const summaries: KernelFuzzSummary[] = [];
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `fuzz-${seed}-${cases}${v['reference-only'] ? '-reference' : ''}.json`);
  // Written after each implementation, so a later one failing never loses an earlier one's cases.
  const record = (summary: KernelFuzzSummary) => {
    summaries.push(summary);
    if (summary.failures.length) console.log(`\n[fuzz] ${summary.implementation} failing cases:\n${describeFailures(summary, 30)}\n`);
    writeFileSync(file, `${JSON.stringify({ seed, cases, summaries: summaries.map((s) => ({ ...s, failures: s.failures.slice(0, 200) })) }, null, 2)}\n`, { mode: 0o600 });
  };
  try {
    if (!v['reference-only']) record(await runKernelFuzz({ ...common, implementation: 'weft', binDir: resolve(process.env.WEFT_BIN_DIR ?? join(ROOT, 'dist/bin')) }));
    if (v.reference || v['reference-only']) record(await runKernelFuzz({ ...common, implementation: 'reference', binDir: '/usr/lib/cni' }));
  } finally {
    await scope.cleanup();
  }
  console.log(`\n[fuzz] seed ${seed}, ${cases} cases`);
  for (const s of summaries) console.log(`[fuzz] ${line(s)}`);
  console.log(`[fuzz] wrote ${file}`);
  return summaries.find((s) => s.implementation === 'weft')?.failures.length ?? 0;
}

process.exitCode = (v.tier === 'unit' ? await unitTier() : await kernelTier()) > 0 ? 1 : 0;
