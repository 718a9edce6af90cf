import { run, runInBackground, type BackgroundProcess, type RunResult } from '../../lib/exec.ts';

// Long-running control-plane processes for tests: started so they die with the test worker, stopped
// gently then forcefully, and waited on with a readiness check that fails fast when one of them exits.

const STOP_GRACE_MS = 10_000;
const POLL_MS = 250;
const REPORT_EVERY_MS = 5_000;

export interface Component {
  name: string;
  process: BackgroundProcess;
}

export function startComponent(name: string, file: string, args: readonly string[], options: { netns?: string } = {}): Component {
  // pdeathsig: a crashed test worker must not leave an API server running behind it.
  return { name, process: runInBackground('setpriv', ['--pdeathsig', 'KILL', '--', file, ...args], { netns: options.netns }) };
}

export async function stopComponent(component: Component): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const killLater = new Promise<RunResult>((resolve) => {
    timer = setTimeout(() => resolve(component.process.stop('SIGKILL')), STOP_GRACE_MS);
  });
  await Promise.race([component.process.stop('SIGTERM'), killLater]);
  clearTimeout(timer);
}

function tail(text: string, lines = 15): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

export interface WaitOptions {
  /** Fail as soon as this names a process that exited (with the end of its output). */
  died: () => string | undefined;
  timeoutMs: number;
  log: (line: string) => void;
}

/**
 * A `died` check for a changing list of components: the first still listed that exited, with the end of
 * its output. One stopped on purpose leaves the list (kube-apiserver stopped, then started again), so
 * its exit fails no later wait.
 */
export function firstExited(components: readonly Component[]): () => string | undefined {
  const deaths = new Map<Component, string>();
  const watched = new WeakSet<Component>();
  return () => {
    for (const c of components.filter((c) => !watched.has(c))) {
      watched.add(c);
      void c.process.exited.then((r) => deaths.set(c, `${c.name} exited with ${r.code}:\n${tail(r.stderr || r.stdout)}`));
    }
    for (const [c, death] of deaths) if (components.includes(c)) return death;
    return undefined;
  };
}

/**
 * Polls `check` until it returns true; while not ready it returns (or throws) what it is waiting for,
 * which is logged every few seconds and quoted in the timeout error.
 */
export async function waitUntilReady(what: string, check: () => Promise<true | string>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let state = 'not checked yet';
  let lastReport = Date.now();
  while (Date.now() < deadline) {
    const died = options.died();
    if (died) throw new Error(`cannot start ${what}: ${died}`);
    const result = await check().catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
    if (result === true) return;
    state = result;
    if (Date.now() - lastReport > REPORT_EVERY_MS) {
      options.log(`waiting for ${what}: ${state}`);
      lastReport = Date.now();
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`cannot start ${what}: not ready after ${options.timeoutMs} ms: ${state}`);
}

/** GETs a health URL with curl (from `netns` when given): true on 2xx, else what came back. */
export async function probeHealth(url: string, options: { ca?: string; netns?: string } = {}): Promise<true | string> {
  const tls = options.ca ? ['--cacert', options.ca] : [];
  const result = await run('curl', ['-sS', '--fail-with-body', '--max-time', '5', ...tls, url], { netns: options.netns });
  if (result.code === 0) return true;
  const failed = result.stdout.split('\n').filter((l) => l.includes('failed'));
  return (failed.length > 0 ? failed.join('; ') : result.stderr.trim() || result.stdout.slice(0, 200)) || `curl exit ${result.code}`;
}
