import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DaemonRecord } from './daemon-process.ts';
import { checkLabId } from './topology.ts';

// What a running lab cluster is made of, written after every step of cluster:up, so cluster:down (or a
// test's teardown after a failed up) removes exactly what exists, from another process, any time later.

export interface LabState {
  id: string;
  workers: number;
  /** Machine-wide sysctls as they were before the lab changed them, restored by cluster:down. */
  sysctls: Record<string, string>;
  /** System paths created empty as bind-mount targets. */
  createdMountpoints: string[];
  underlay: boolean;
  /** Node name -> its processes. */
  nodes: Record<string, { anchor?: DaemonRecord; containerd?: DaemonRecord; kubelet?: DaemonRecord }>;
  controlPlane: DaemonRecord[];
  forwarder?: DaemonRecord;
  /** 127.0.0.1 port of the machine where the API server is forwarded. */
  apiPort?: number;
  /** The admin kubeconfig alone (server https://127.0.0.1:apiPort). */
  kubeconfig?: string;
  /** The user's kubeconfig the context was merged into. */
  mergedInto?: string;
  context?: string;
  /** The user's current context before the merge made the lab's current, restored by cluster:down. */
  previousContext?: string;
}

/** Where labs keep their state: $WEFT_STATE_DIR, else $XDG_STATE_HOME/weft/labs, else ~/.local/state/weft/labs. */
export function labsRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WEFT_STATE_DIR) return resolve(env.WEFT_STATE_DIR);
  return join(env.XDG_STATE_HOME ? resolve(env.XDG_STATE_HOME) : join(homedir(), '.local', 'state'), 'weft', 'labs');
}

export function labDir(id: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(labsRoot(env), checkLabId(id));
}

const stateFile = (dir: string) => join(dir, 'state.json');

export function readLabState(dir: string): LabState | undefined {
  if (!existsSync(stateFile(dir))) return undefined;
  return JSON.parse(readFileSync(stateFile(dir), 'utf8')) as LabState;
}

/** Written atomically (a crash mid-write never leaves half a state). */
export function writeLabState(dir: string, state: LabState): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const partial = `${stateFile(dir)}.partial`;
  writeFileSync(partial, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(partial, stateFile(dir));
}

/** Ids of the labs with state on this machine. */
export function listLabs(env: NodeJS.ProcessEnv = process.env): string[] {
  const root = labsRoot(env);
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((id) => existsSync(stateFile(join(root, id))));
}
