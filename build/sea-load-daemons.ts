import { basename, dirname } from 'node:path';
import type { Daemons, OverlayDaemon } from '../bin/load-daemons.ts';

// Inside the single executable: the commands' bundle (MAIN_ASSET, the dispatcher and the CNI plugins,
// which build/sea-main.ts evaluates at every start) and the daemons' CommonJS bundles are SEA assets,
// the daemons' each evaluated only when its commands start: CNI calls never parse them
// (docs/PERFORMANCE.md), nor load the modules that read and evaluate them. weftd has a bundle of its own
// (OVERLAY_ASSET), without the Kubernetes client the other daemons' bundle (DAEMONS_ASSET) carries. V8's
// code cache for each, made at build time, is a second asset: with it V8 reads the bundle's compiled
// form instead of parsing it again at every daemon start. A cache V8 refuses (another V8) only costs
// that parse. The daemons' bundle has two: weft-proxy's holds the compiled form of the modules every
// proxy start initializes, which the troubleshooting commands would read for nothing (kubectl-weft
// --help took 170 ms with it, 137 ms without, medians of 10 alternating runs).

export const MAIN_ASSET = 'weft.cjs';
export const MAIN_CODE_CACHE = 'weft.cache';
export const DAEMONS_ASSET = 'daemons.cjs';
export const DAEMONS_CODE_CACHE = 'daemons.cache';
export const PROXY_CODE_CACHE = 'daemons-proxy.cache';
export const OVERLAY_ASSET = 'weftd.cjs';
export const OVERLAY_CODE_CACHE = 'weftd.cache';

/** The bundle as a function of CommonJS's module variables, as Node wraps a module. */
export function wrapCommonJs(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}

type ModuleFunction = (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;

/**
 * The assets are read in place (getRawAsset views the executable's own memory; getAsset copies it) and
 * the bundle as latin1, a copy into a one-byte string, where UTF-8 decoding scans it first: the build
 * keeps every bundle ASCII (bundle.ts), for which the two read the same. kubectl-weft --help: 122 ->
 * 109 ms here (docs/PERFORMANCE.md).
 */
export function evaluateAsset(asset: string, codeCache: string): object {
  const { getRawAsset: readAsset } = process.getBuiltinModule('node:sea');
  const getRawAsset = (name: string): ArrayBuffer => {
    try {
      return readAsset(name);
    } catch (error) {
      // weft-cni holds the CNI plugins only (build/links.ts).
      throw new Error(`this executable (${basename(process.execPath)}) does not hold ${name}: the daemons and kubectl-weft are in weft, the CNI plugins in weft-cni`, { cause: error });
    }
  };
  const { Script } = process.getBuiltinModule('node:vm');
  const { createRequire } = process.getBuiltinModule('node:module');
  const source = Buffer.from(getRawAsset(asset)).toString('latin1');
  const script = new Script(wrapCommonJs(source), { filename: `weft/${asset}`, cachedData: new Uint8Array(getRawAsset(codeCache)) });
  const wrapper = script.runInThisContext() as ModuleFunction;
  const module = { exports: {} };
  wrapper(module.exports, createRequire(process.execPath), module, process.execPath, dirname(process.execPath));
  return module.exports;
}

export async function loadDaemons(options: { proxy?: boolean } = {}): Promise<Daemons> {
  return evaluateAsset(DAEMONS_ASSET, options.proxy ? PROXY_CODE_CACHE : DAEMONS_CODE_CACHE) as Daemons;
}

export async function loadOverlayDaemon(): Promise<OverlayDaemon> {
  return evaluateAsset(OVERLAY_ASSET, OVERLAY_CODE_CACHE) as OverlayDaemon;
}
