import { dirname } from 'node:path';
import type { Daemons } from '../bin/load-daemons.ts';

// Inside the single executable: the daemons' CommonJS bundle is a SEA asset (DAEMONS_ASSET), evaluated
// only when a daemon or a troubleshooting command starts: CNI calls never parse it (docs/PERFORMANCE.md),
// nor load the modules that read and evaluate it.

export const DAEMONS_ASSET = 'daemons.cjs';

export async function loadDaemons(): Promise<Daemons> {
  const { getAsset } = process.getBuiltinModule('node:sea');
  const { runInThisContext } = process.getBuiltinModule('node:vm');
  const { createRequire } = process.getBuiltinModule('node:module');
  const source = getAsset(DAEMONS_ASSET, 'utf8');
  const wrapper = runInThisContext(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: `weft/${DAEMONS_ASSET}` }) as (
    exports: object,
    require: NodeJS.Require,
    module: { exports: object },
    filename: string,
    dirname: string,
  ) => void;
  const module = { exports: {} };
  wrapper(module.exports, createRequire(process.execPath), module, process.execPath, dirname(process.execPath));
  return module.exports as Daemons;
}
