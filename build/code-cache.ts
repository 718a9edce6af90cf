import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { runChecked } from '../lib/exec.ts';
import { wrapCommonJs } from './sea-load-daemons.ts';

// V8's code cache for a daemons' bundle, made by the same Node the executable embeds, so V8 takes it
// at run time (a cache from another V8, or other V8 flags, is refused and the bundle parsed). Made in
// a process of its own: it compiles the bundle exactly as the executable will (the same wrapper, see
// sea-load-daemons.ts) and runs its top level. A bundle whose commands initialize their modules lazily
// names an export that initializes them: run too, it puts their compiled form in the cache (weft-proxy
// reaches "started" ~20% sooner than with the top level alone, measured). An eager cache is compiled,
// not run, with V8's --no-lazy set for that compile only: every function is in it, and the flags are
// back to the executable's when the cache is written, so V8 takes it.

const MAKE_CACHE = `
const { readFileSync, writeFileSync } = require('node:fs');
const { Script } = require('node:vm');
const { createRequire } = require('node:module');
const [bundle, cache, wrapped, filename, initialize] = process.argv.slice(1);
const script = new Script(readFileSync(wrapped, 'utf8'), { filename });
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, require('node:path').dirname(bundle));
Promise.resolve(initialize ? module.exports[initialize]() : undefined).then(() => writeFileSync(cache, script.createCachedData(), { mode: 0o600 }));
`;

const MAKE_EAGER_CACHE = `
const { readFileSync, writeFileSync } = require('node:fs');
const { Script } = require('node:vm');
const { setFlagsFromString } = require('node:v8');
const [cache, wrapped, filename] = process.argv.slice(1);
setFlagsFromString('--no-lazy');
const script = new Script(readFileSync(wrapped, 'utf8'), { filename });
setFlagsFromString('--lazy');
writeFileSync(cache, script.createCachedData(), { mode: 0o600 });
`;

// Loads the cache as the executable will; V8 refuses a cache made under other flags without a word.
const CHECK_CACHE = `
const { readFileSync } = require('node:fs');
const { Script } = require('node:vm');
const [cache, wrapped, filename] = process.argv.slice(1);
const script = new Script(readFileSync(wrapped, 'utf8'), { filename, cachedData: readFileSync(cache) });
if (script.cachedDataRejected) { console.error('V8 rejected the code cache'); process.exit(1); }
`;

/** Writes the code cache of the bundle at `bundle` (embedded as the asset `asset`) to `cache`; returns its size in bytes. */
export async function writeCodeCache(bundle: string, cache: string, options: { node: string; execArgv: readonly string[]; asset: string; initialize?: string; eager?: boolean }): Promise<number> {
  const filename = `weft/${options.asset}`;
  const wrapped = `${cache}.wrapped.cjs`;
  writeFileSync(wrapped, wrapCommonJs(readFileSync(bundle, 'utf8')), { mode: 0o600 });
  try {
    if (options.eager) await runChecked(options.node, [...options.execArgv, '-e', MAKE_EAGER_CACHE, cache, wrapped, filename]);
    else await runChecked(options.node, [...options.execArgv, '-e', MAKE_CACHE, bundle, cache, wrapped, filename, ...(options.initialize ? [options.initialize] : [])]);
    await runChecked(options.node, [...options.execArgv, '-e', CHECK_CACHE, cache, wrapped, filename]);
  } finally {
    rmSync(wrapped, { force: true });
  }
  return statSync(cache).size;
}
