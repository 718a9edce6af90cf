import { dirname } from 'node:path';
import type { Daemons } from '../bin/load-daemons.ts';

// Inside the single executable: the daemons' CommonJS bundle is a SEA asset (DAEMONS_ASSET), evaluated
// only when a daemon or a troubleshooting command starts: CNI calls never parse it (docs/PERFORMANCE.md),
// nor load the modules that read and evaluate it. V8's code cache for it, made at build time, is a
// second asset (DAEMONS_CODE_CACHE): with it V8 reads the bundle's compiled form instead of parsing
// it again at every daemon start. A cache V8 refuses (another V8) only costs that parse.

export const DAEMONS_ASSET = 'daemons.cjs';
export const DAEMONS_CODE_CACHE = 'daemons.cache';

/** The bundle as a function of CommonJS's module variables, as Node wraps a module. */
export function wrapCommonJs(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}

type ModuleFunction = (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;

export async function loadDaemons(): Promise<Daemons> {
  const { getAsset } = process.getBuiltinModule('node:sea');
  const { Script } = process.getBuiltinModule('node:vm');
  const { createRequire } = process.getBuiltinModule('node:module');
  const script = new Script(wrapCommonJs(getAsset(DAEMONS_ASSET, 'utf8')), { filename: `weft/${DAEMONS_ASSET}`, cachedData: new Uint8Array(getAsset(DAEMONS_CODE_CACHE)) });
  const wrapper = script.runInThisContext() as ModuleFunction;
  const module = { exports: {} };
  wrapper(module.exports, createRequire(process.execPath), module, process.execPath, dirname(process.execPath));
  return module.exports as Daemons;
}
