import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { phasesFromStrace, type Phases } from './strace-phases.ts';

// Calls through a wrapper with the plugin's name that execs it under a tool: strace for the phase
// breakdown (seccomp-bpf filtering keeps the overhead to the traced execve calls), GNU time for the
// peak RSS. Delegates are still found in the real CNI_PATH, so weft's in-process IPAM stays in-process.

export interface Tracer {
  /** Directory holding the wrapper; use it as the plugin's directory, and the real one as CNI_PATH. */
  wrapperDir: string;
  /** Environment naming the trace file for one call. */
  env(file: string): Record<string, string>;
}

/** A script named `plugin` in `dir` that runs `command` (the real plugin under a tool) with the call's arguments. */
export function createWrapper(dir: string, plugin: string, command: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const wrapper = join(dir, plugin);
  writeFileSync(wrapper, `#!/bin/sh\nexec ${command}\n`, { mode: 0o700 });
  chmodSync(wrapper, 0o700);
}

export function createTracer(dir: string, plugin: string, realBinDir: string): Tracer {
  createWrapper(dir, plugin, `strace -f --seccomp-bpf -ttt -e trace=execve,read -e signal=none -o "$WEFT_TRACE_FILE" ${join(realBinDir, plugin)} "$@"`);
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
