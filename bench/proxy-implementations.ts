import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { run } from '../lib/exec.ts';
import { NETLINK_ADDON } from '../lib/netlink/socket.ts';
import { serviceChainName, shortHash } from '../proxy/core/service-names.ts';
import type { IptablesVariant } from '../proxy/iptables/kernel.ts';
import { startComponent, stopComponent } from '../lab/kube/component-process.ts';
import { CLUSTER_CIDR } from '../lab/kube/control-plane-args.ts';
import type { Netns } from '../test/support/netns.ts';
import { startUpstreamKubeProxy } from '../test/support/upstream-kube-proxy.ts';
import { sleep } from './proxy-clock.ts';
import { NftMonitor, pollChain, pollTable } from './proxy-kernel.ts';
import { clusterIP, servicePortKey, SERVICE_PORT, TARGET_PORT } from './proxy-objects.ts';

// The four proxies bench:proxy compares, started as a node would run them, and how each one's rules
// are recognised in the kernel: weft-proxy and upstream kube-proxy v1.34.4, each with
// --proxy-mode iptables (on the iptables variant the run chose) and --proxy-mode nftables.

const ROOT = resolve(import.meta.dirname, '..');
const PID_WAIT_MS = 20_000;
const METRICS = '127.0.0.1:10249';
/** Between listings of an iptables-legacy chain: the resolution of iptables figures. */
export const POLL_MS = 20;

export type ProxyName = 'weft-proxy' | 'kube-proxy';
export type Mode = 'iptables' | 'nftables';

export interface RunningProxy {
  /** The proxy process itself (not a wrapper), for its memory and CPU time. */
  readonly pid: number;
  /** Stops it; resolves with what it logged (weft-proxy) or nothing. */
  close(): Promise<string>;
}

/** When a rule appeared (or went) in the node's kernel, epoch ms; undefined past the deadline. */
export interface KernelWatch {
  endpoint(index: number, ip: string, since: number, deadline: number): Promise<number | undefined>;
  service(index: number, present: boolean, since: number, deadline: number): Promise<number | undefined>;
  close(): Promise<void>;
}

/** Waits for the first full sync; made before the proxy starts, so no event is missed. */
export interface FullSyncWatch {
  /** When the rules of every Service up to `last` were in the kernel; undefined past the deadline. */
  wait(last: { index: number; ip: string }, deadline: number): Promise<number | undefined>;
  close(): Promise<void>;
}

export interface ProxyImplementation {
  readonly name: string;
  readonly proxy: ProxyName;
  readonly mode: Mode;
  start(node: Netns, options: { kubeconfig: string; nodeName: string }): Promise<RunningProxy>;
  watchFullSync(node: Netns): Promise<FullSyncWatch>;
  watch(node: Netns): Promise<KernelWatch>;
}

const FULL_SYNC_POLL_MS = 200;
const TABLE_POLL_MS = 20;

/**
 * nftables: the full sync is one transaction that creates the proxy's table, so the table appearing
 * is the commit. It is polled with `nft list tables` (the tables alone, a few ms), not watched with
 * `nft monitor`: a listening monitor makes the kernel build an event for every object of the commit,
 * ~110,000 at 10,000 Services, which doubled the commit (weft's payload loaded by `nft -f` in 1.25 s
 * alone, 2.54 s with a monitor attached, measured). Listing the table itself would cost seconds.
 */
function tableCreated(node: Netns, table: string): FullSyncWatch {
  return {
    wait: (_last, deadline) => pollTable(node.path, table, { deadline, intervalMs: TABLE_POLL_MS }),
    close: async () => {},
  };
}

/** iptables: the last Service's endpoint chain listed until it holds its last endpoint's DNAT. */
function chainFilled(node: Netns, variant: IptablesVariant, chain: (last: { index: number; ip: string }) => string): FullSyncWatch {
  return {
    wait: (last, deadline) => pollChain(node.path, { iptables: `iptables-${variant}`, chain: chain(last) }, (l) => l.includes(`--to-destination ${last.ip}:${TARGET_PORT}`), { deadline, intervalMs: FULL_SYNC_POLL_MS }),
    close: async () => {},
  };
}

/** kube-proxy's per-endpoint chain: KUBE-SEP- + hash of "namespace/name:port" + protocol + "ip:port". */
export function kubeProxyEndpointChain(index: number, ip: string): string {
  return `KUBE-SEP-${shortHash(`${servicePortKey(index)}tcp${ip}:${TARGET_PORT}`)}`;
}

function weftServiceChain(index: number): string {
  return serviceChainName('SVC', { key: servicePortKey(index), protocol: 'tcp' });
}

/** A pattern matching `ip` as a whole address (10.192.0.1 is not part of 10.192.0.10) when nothing but a non-digit follows. */
function addressPattern(ip: string): string {
  return `(?<![\\d.])${ip.replaceAll('.', '\\.')}`;
}

function mentions(line: string, ip: string): boolean {
  return new RegExp(`${addressPattern(ip)}(?!\\d)`).test(line);
}

async function nftWatch(node: Netns): Promise<KernelWatch> {
  const monitor = await NftMonitor.start(node.path);
  // A Service's destination: `ip . tcp . port` in kube-proxy's keys, `ip . port` in weft's per-protocol groups.
  const dest = (index: number) => new RegExp(`${addressPattern(clusterIP(index))} \\. (tcp \\. )?${SERVICE_PORT}(?!\\d)`);
  return {
    endpoint: async (_index, ip, since, deadline) => (await monitor.waitFor((l) => l.startsWith('add ') && mentions(l, ip), since, deadline))?.at,
    service: async (index, present, since, deadline) => (await monitor.waitFor((l) => l.startsWith(present ? 'add element' : 'delete element') && dest(index).test(l), since, deadline))?.at,
    close: () => monitor.close(),
  };
}

function iptablesWatch(node: Netns, variant: IptablesVariant, chains: { endpoint: (index: number, ip: string) => string; services: string }): KernelWatch {
  const iptables = `iptables-${variant}`;
  const has = (text: string) => (listing: string) => listing.includes(text);
  return {
    endpoint: (index, ip, _since, deadline) => pollChain(node.path, { iptables, chain: chains.endpoint(index, ip) }, has(`--to-destination ${ip}:${TARGET_PORT}`), { deadline, intervalMs: POLL_MS }),
    service: (index, present, _since, deadline) =>
      pollChain(node.path, { iptables, chain: chains.services }, (l) => l.includes(`-d ${clusterIP(index)}/32`) === present, { deadline, intervalMs: POLL_MS }),
    close: async () => {},
  };
}

/** The process named `comm` inside the namespace (a proxy started through nsenter and setpriv, which exec). */
async function pidIn(node: Netns, comm: string): Promise<number> {
  const deadline = Date.now() + PID_WAIT_MS;
  while (Date.now() < deadline) {
    const pids = (await run('ip', ['netns', 'pids', node.name])).stdout.split('\n').filter(Boolean);
    for (const pid of pids) {
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) return Number(pid);
      } catch {
        // exited meanwhile
      }
    }
    await sleep(20);
  }
  throw new Error(`cannot find the "${comm}" process in namespace "${node.name}"`);
}

export function kubeProxy(binDir: string, mode: Mode, options: { variant: IptablesVariant; minSyncPeriod: string }): ProxyImplementation {
  const { variant } = options;
  return {
    name: `kube-proxy ${mode}`,
    proxy: 'kube-proxy',
    mode,
    start: async (node, { kubeconfig, nodeName }) => {
      const proxy = startUpstreamKubeProxy({ binDir, netns: node.path, nodeName, kubeconfig, mode, config: { minSyncPeriod: options.minSyncPeriod } });
      return { pid: await pidIn(node, 'kube-proxy'), close: async () => (await proxy.close(), '') };
    },
    watchFullSync: async (node) => (mode === 'nftables' ? tableCreated(node, 'ip kube-proxy') : chainFilled(node, variant, (last) => kubeProxyEndpointChain(last.index, last.ip))),
    watch: async (node) => (mode === 'nftables' ? nftWatch(node) : iptablesWatch(node, variant, { endpoint: kubeProxyEndpointChain, services: 'KUBE-SERVICES' })),
  };
}

/**
 * weft-proxy's executable (WEFT_BIN_DIR's, else dist/bin: start-up is part of the figures, so never
 * the sources), copied to a directory of its own as an install copies it. The copy matters for memory:
 * `node --build-sea` writes the executable in one piece, and the kernel keeps such a freshly written
 * file in large page-cache folios, so a process mapping it faults in whole folios: ~35 MiB more
 * resident memory than the same bytes copied (measured with a trivial SEA: 77 MiB against 40 MiB).
 */
export function installWeftProxy(): { binary: string; remove: () => void } {
  const built = join(resolve(process.env.WEFT_BIN_DIR ?? join(ROOT, 'dist/bin')), 'weft-proxy');
  if (!existsSync(built)) throw new Error(`cannot run weft-proxy: "${built}" does not exist (npm run build)`);
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-bin-'));
  const binary = join(dir, 'weft-proxy');
  copyFileSync(built, binary);
  chmodSync(binary, 0o700);
  // The nftables backend loads a fresh table's elements through the netlink addon beside it.
  copyFileSync(join(dirname(built), NETLINK_ADDON), join(dir, NETLINK_ADDON));
  return { binary, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function weftProxy(binary: string, mode: Mode, options: { variant: IptablesVariant; minSyncPeriod: string }): ProxyImplementation {
  const { variant } = options;
  return {
    name: `weft-proxy ${mode}`,
    proxy: 'weft-proxy',
    mode,
    start: async (node, { kubeconfig, nodeName }) => {
      const args = ['--kubeconfig', kubeconfig, '--hostname-override', nodeName, '--cluster-cidr', CLUSTER_CIDR, '--proxy-mode', mode, '--min-sync-period', options.minSyncPeriod, '--metrics-bind-address', METRICS, '--healthz-bind-address', '127.0.0.1:10256'];
      const component = startComponent('weft-proxy', binary, args, { netns: node.path });
      // nsenter and setpriv exec, so the child's pid is the proxy's.
      const pid = component.process.pid;
      if (pid === undefined) throw new Error('cannot start weft-proxy: no process id');
      return { pid, close: async () => (await stopComponent(component), (await component.process.exited).stderr) };
    },
    watchFullSync: async (node) => (mode === 'nftables' ? tableCreated(node, 'ip weft') : chainFilled(node, variant, (last) => weftServiceChain(last.index))),
    watch: async (node) => (mode === 'nftables' ? nftWatch(node) : iptablesWatch(node, variant, { endpoint: (index) => weftServiceChain(index), services: 'WEFT-SERVICES' })),
  };
}

export interface HeapFigures {
  /** Heap in use. */
  readonly heapMiB?: number;
  /** Heap the runtime holds from the system, in use or not. */
  readonly heapHeldMiB?: number;
}

const HEAP_METRICS: Record<ProxyName, { used: string; held: string }> = {
  'weft-proxy': { used: 'nodejs_heap_size_used_bytes', held: 'nodejs_heap_size_total_bytes' },
  'kube-proxy': { used: 'go_memstats_heap_alloc_bytes', held: 'go_memstats_heap_sys_bytes' },
};

/** The proxy's heap, from its metrics: V8's for weft-proxy, Go's for kube-proxy. */
export async function heapFigures(node: Netns, proxy: ProxyName): Promise<HeapFigures> {
  const text = (await run('curl', ['-s', '--max-time', '5', `http://${METRICS}/metrics`], { netns: node.path })).stdout;
  const mib = (name: string) => {
    const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
    return value === undefined ? undefined : Math.round(Number(value) / 104857.6) / 10;
  };
  const used = mib(HEAP_METRICS[proxy].used);
  const held = mib(HEAP_METRICS[proxy].held);
  return { ...(used !== undefined ? { heapMiB: used } : {}), ...(held !== undefined ? { heapHeldMiB: held } : {}) };
}
