import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeCodeCache } from '../../../build/code-cache.ts';

// The caches the executable embeds, made by this Node under the executable's flags and checked by
// loading them back as the executable does (writeCodeCache fails when V8 refuses one).

describe('writeCodeCache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-code-cache-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const execArgv = ['--max-semi-space-size=4', '--expose-gc'];
  const bundle = join(dir, 'bundle.cjs');
  // Functions only a call would compile; running the top level must not be needed (nor happen) for an eager cache.
  const inner = Array.from({ length: 40 }, (_, i) => `function f${i}(x) { return [x, ${i}].map((y) => y * ${i + 1}).reduce((a, b) => a + b, 0); }`).join('\n');
  writeFileSync(bundle, `${inner}\nmodule.exports = { f0 };\nif (process.env.WEFT_CODE_CACHE_TEST_RAN) throw new Error('ran');\n`);

  it('compiles every function into an eager cache without running the bundle, under flags the executable accepts', async () => {
    const lazy = await writeCodeCache(bundle, join(dir, 'lazy.cache'), { node: process.execPath, execArgv, asset: 'bundle.cjs' });
    process.env.WEFT_CODE_CACHE_TEST_RAN = '1';
    try {
      const eager = await writeCodeCache(bundle, join(dir, 'eager.cache'), { node: process.execPath, execArgv, asset: 'bundle.cjs', eager: true });
      expect(eager).toBeGreaterThan(lazy * 1.5);
    } finally {
      delete process.env.WEFT_CODE_CACHE_TEST_RAN;
    }
  });
});
