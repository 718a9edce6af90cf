import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { phasesFromStrace, type Phases } from './strace-phases.ts';

// Traced calls for the phase breakdown: a wrapper with the plugin's name execs it under strace
// (seccomp-bpf filtering keeps the overhead to the traced execve calls). Delegates are still found
// in the real CNI_PATH, so weft's in-process IPAM stays in-process.

export interface Tracer {
  /** Directory holding the wrapper; use it as the plugin's directory, and the real one as CNI_PATH. */
  wrapperDir: string;
  /** Environment naming the trace file for one call. */
  env(file: string): Record<string, string>;
}

export function createTracer(dir: string, plugin: string, realBinDir: string): Tracer {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const wrapper = join(dir, plugin);
  const real = join(realBinDir, plugin);
  writeFileSync(wrapper, `#!/bin/sh\nexec strace -f --seccomp-bpf -ttt -e trace=execve -e signal=none -o "$WEFT_TRACE_FILE" ${real} "$@"\n`, { mode: 0o700 });
  chmodSync(wrapper, 0o700);
  return { wrapperDir: dir, env: (file) => ({ WEFT_TRACE_FILE: file }) };
}

export function readPhases(file: string, plugin: string): Phases {
  return phasesFromStrace(readFileSync(file, 'utf8'), plugin);
}

/** Mean of each phase over several calls, rounded to 0.1 ms. */
export function meanPhases(all: readonly Phases[]): Phases {
  const mean = (pick: (p: Phases) => number): number => Math.round((all.reduce((sum, p) => sum + pick(p), 0) / all.length) * 10) / 10;
  return { totalMs: mean((p) => p.totalMs), startupMs: mean((p) => p.startupMs), childrenMs: mean((p) => p.childrenMs), ownMs: mean((p) => p.ownMs), children: mean((p) => p.children) };
}
