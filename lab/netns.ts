import { run, runChecked } from '../lib/exec.ts';

// Network namespaces for labs (the demo, namespace tests, benchmarks). Every name carries the
// owner's prefix, so two owners never collide and a prefix finds what a crashed owner left.

export interface Netns {
  /** Name under /var/run/netns. */
  name: string;
  /** Path runtimes pass as CNI_NETNS. */
  path: string;
  /** Runs a program inside the namespace; rejects on non-zero exit. */
  exec(file: string, args: readonly string[], input?: string): Promise<string>;
  /** Runs a program inside the namespace and returns its exit code and output. */
  try(file: string, args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
}

async function createNamedNetns(name: string): Promise<Netns> {
  await runChecked('ip', ['netns', 'add', name]);
  const path = `/var/run/netns/${name}`;
  const netns: Netns = {
    name,
    path,
    exec: async (file, args, input) => (await runChecked(file, args, { netns: path, input })).stdout,
    try: (file, args, input) => run(file, args, { netns: path, input }),
  };
  await netns.exec('ip', ['link', 'set', 'lo', 'up']);
  return netns;
}

/** Kills what runs in the namespace, then deletes it; a namespace already gone is fine. */
export async function deleteNetns(name: string): Promise<void> {
  const pids = await run('ip', ['netns', 'pids', name]);
  for (const pid of pids.stdout.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already exited
    }
  }
  await run('ip', ['netns', 'del', name]);
}

/** Collects namespaces so one cleanup removes them all, on failure too. */
export class NetnsScope {
  readonly prefix: string;
  private readonly created: Netns[] = [];
  constructor(prefix: string) {
    this.prefix = prefix;
  }
  async create(suffix: string): Promise<Netns> {
    const netns = await createNamedNetns(`${this.prefix}${suffix}`);
    this.created.push(netns);
    return netns;
  }
  async cleanup(): Promise<void> {
    for (const netns of this.created.splice(0).reverse()) await deleteNetns(netns.name);
  }
}

export async function listNamespaces(prefix: string): Promise<string[]> {
  const result = await run('ip', ['netns', 'list']);
  return result.stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(prefix));
}
