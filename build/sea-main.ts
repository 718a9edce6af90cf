import { evaluateAsset, MAIN_ASSET, MAIN_CODE_CACHE } from './sea-load-daemons.ts';

// The single executable's entry. The commands' bundle is an asset evaluated with a code cache that holds
// every one of its functions compiled (code-cache.ts, eager): the executable's own cache of its main
// script, made by compiling without running, holds only the top level, so a CNI ADD compiled each
// function it called, about half of its own work (docs/PERFORMANCE.md).
evaluateAsset(MAIN_ASSET, MAIN_CODE_CACHE);
