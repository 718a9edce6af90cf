import { readdirSync, readFileSync } from 'node:fs';
import { run } from '../../lib/exec.ts';
import { parseFdb, parseLinks, parseNeighbours, parseNetnsIds, parseRoutes, parseRules, type KernelState } from './kernel-state.ts';

// Reads the kernel state of the namespace this process runs in: one `ip`/`bridge` call per table,
// sysctls straight from /proc/sys (which shows the reader's own namespace). Nothing is changed.

/** The sysctls the explanation and the checks look at; per-device ones are added for every link. */
const GLOBAL_SYSCTLS = [
  'net/ipv4/ip_forward',
  'net/ipv4/conf/all/rp_filter',
  'net/ipv4/conf/all/forwarding',
  'net/ipv4/conf/default/rp_filter',
  'net/bridge/bridge-nf-call-iptables',
  'net/netfilter/nf_conntrack_count',
  'net/netfilter/nf_conntrack_max',
];
const DEVICE_SYSCTLS = ['rp_filter', 'forwarding'];

async function json(program: string, args: readonly string[]): Promise<string> {
  const result = await run(program, args);
  if (result.code !== 0) throw new Error(`cannot read node state: "${program} ${args.join(' ')}" exit ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}

function readSysctl(path: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${path}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The interfaces /proc/sys/net/ipv4/conf lists: the device names as the kernel spells them there. */
function confDevices(): string[] {
  try {
    return readdirSync('/proc/sys/net/ipv4/conf').filter((d) => d !== 'all' && d !== 'default');
  } catch {
    return [];
  }
}

export async function readKernelState(): Promise<KernelState> {
  const [links, routes, rules, neighbours, fdb, nsids] = await Promise.all([
    json('ip', ['-d', '-j', 'addr', 'show']),
    json('ip', ['-j', 'route', 'show', 'table', 'all']),
    json('ip', ['-j', 'rule', 'show']),
    json('ip', ['-j', 'neigh', 'show']),
    json('bridge', ['-j', 'fdb', 'show']),
    json('ip', ['-j', 'netns', 'list-id']),
  ]);
  const sysctls = new Map<string, string>();
  const paths = [...GLOBAL_SYSCTLS, ...confDevices().flatMap((dev) => DEVICE_SYSCTLS.map((name) => `net/ipv4/conf/${dev}/${name}`))];
  for (const path of paths) {
    const value = readSysctl(path);
    if (value !== undefined) sysctls.set(path, value);
  }
  return {
    links: parseLinks(links),
    routes: parseRoutes(routes),
    rules: parseRules(rules),
    neighbours: parseNeighbours(neighbours),
    fdb: parseFdb(fdb),
    sysctls,
    netnsNames: parseNetnsIds(nsids),
  };
}
