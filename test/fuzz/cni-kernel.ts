import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../lib/exec.ts';
import { parseIpJson, type IpLink } from '../../lib/ip-json.ts';
import { parseIp } from '../../lib/ip.ts';
import type { Netns } from '../../lab/netns.ts';
import { expectationProblems, generateCniCase, specErrorProblem, type CniCase, type CorpusPaths } from './cni-corpus.ts';

// The namespace tier of the CNI fuzz suite: each case's ADD and then DEL run through the real
// executables in a node namespace, for a fresh pod namespace, and after each case the node must
// hold nothing of it: no link but the loopback and port-less bridges (a bridge is the network's,
// not an attachment's, and stays as the reference's does), no allocation file, no stored delegate
// config, no masquerade rule, no nftables table; every call ends within its deadline; and GC of the
// node still succeeds. The same corpus runs through the reference bridge and host-local.

export type Implementation = 'weft' | 'reference';

export interface KernelFuzzOptions {
  readonly seed: number;
  readonly cases: number;
  /** Cases run side by side, each worker in its own node namespace. */
  readonly workers: number;
  /** Cases per node namespace before a fresh one is made. */
  readonly batch: number;
  readonly implementation: Implementation;
  /** CNI_PATH: weft's executables (weft), or the reference plugins' directory. */
  readonly binDir: string;
  /** Every call's deadline (WEFT_CNI_TIMEOUT for weft). */
  readonly timeoutMs: number;
  /** Makes a namespace carrying the run's prefix. */
  createNetns(suffix: string): Promise<Netns>;
  deleteNetns(netns: Netns): Promise<void>;
  /** Progress, one line per finished batch. */
  readonly progress?: (line: string) => void;
}

export interface CaseFailure {
  readonly index: number;
  readonly plugin: string;
  readonly mutations: readonly string[];
  readonly problems: readonly string[];
}

export interface KernelFuzzSummary {
  readonly implementation: Implementation;
  readonly seed: number;
  /** Cases run (the reference skips weft-vxlan and weft-only cases). */
  readonly ran: number;
  readonly addSucceeded: number;
  readonly addFailed: number;
  /** Cases not run because they would exhaust the machine (the reference's fork bomb), by reason. */
  readonly notRun: Record<string, number>;
  readonly failures: CaseFailure[];
  /** Failed cases per kind of problem. */
  readonly byProblem: Record<string, number>;
  readonly seconds: number;
}

const REFERENCE_TYPES: Readonly<Record<string, string>> = { 'weft-bridge': 'bridge', 'weft-host-local': 'host-local' };

/** The case as the reference plugins take it: their type names, and 1.0.0 for 1.1.0 (which 1.1.1 lacks). */
function forReference(c: CniCase): CniCase | undefined {
  if (c.plugin === 'weft-vxlan' || c.weftOnly) return undefined;
  const stdin = c.stdin.replace(/"weft-(bridge|host-local)"/g, (_m, name: string) => `"${REFERENCE_TYPES[`weft-${name}`]}"`).replace(/"cniVersion":"1\.1\.0"/g, '"cniVersion":"1.0.0"');
  return { ...c, stdin };
}

interface CallOutcome {
  readonly code: number;
  readonly json: unknown;
  readonly ms: number;
  readonly stderr: string;
}

function problemKind(problem: string): string {
  const kinds: [RegExp, string][] = [
    [/^leaked link/, 'leaked link'],
    [/^leaked allocation/, 'leaked IPAM file'],
    [/^leaked delegate/, 'leaked delegate config'],
    [/^leaked (iptables|ip6tables)/, 'leaked rule'],
    [/^leaked nftables/, 'leaked nft table'],
    [/^GC/, 'GC failed'],
    [/deadline/, 'over deadline'],
    [/^DEL failed/, 'DEL failed after ADD'],
    [/stdout is not|error has no|reserved by the spec|error "details"/, 'not the spec error JSON'],
    [/unreadable/, 'unreadable ip -json'],
  ];
  return kinds.find(([pattern]) => pattern.test(problem))?.[1] ?? 'wrong outcome';
}

interface NodeFixture {
  readonly node: Netns;
  readonly dir: string;
  readonly paths: CorpusPaths;
}

async function makeNode(options: KernelFuzzOptions, worker: number, batch: number): Promise<NodeFixture> {
  const node = await options.createNetns(`fz${worker}n${batch}`);
  const dir = mkdtempSync(join(tmpdir(), 'weft-fuzz-'));
  const paths: CorpusPaths = {
    dataDir: join(dir, 'networks'),
    vxlanDataDir: join(dir, 'vxlan'),
    subnetFile: join(dir, 'subnet.env'),
    badSubnetFile: join(dir, 'bad-subnet.env'),
    resolvConf: join(dir, 'resolv.conf'),
    fifo: join(dir, 'fifo'),
  };
  mkdirSync(paths.dataDir, { mode: 0o700 });
  writeFileSync(paths.subnetFile, `FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.${(worker * 16 + batch) % 250}.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n`, { mode: 0o600 });
  writeFileSync(paths.badSubnetFile, 'FLANNEL_NETWORK=garbage\n\u0000\u0001', { mode: 0o600 });
  writeFileSync(paths.resolvConf, 'nameserver 10.96.0.10\nsearch svc.cluster.local\n', { mode: 0o600 });
  execFileSync('mkfifo', ['-m', '0600', paths.fifo]);
  return { node, dir, paths };
}

async function call(options: KernelFuzzOptions, fixture: NodeFixture, c: CniCase, command: string, netns: string | undefined, stdin: string): Promise<CallOutcome> {
  const plugin = options.implementation === 'weft' ? c.plugin : REFERENCE_TYPES[c.plugin]!;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: c.containerId,
    CNI_IFNAME: c.ifname,
    CNI_PATH: options.binDir,
    ...(netns !== undefined ? { CNI_NETNS: netns } : {}),
    ...(c.cniArgs !== undefined ? { CNI_ARGS: c.cniArgs } : {}),
    ...(options.implementation === 'weft' ? { WEFT_CNI_TIMEOUT: `${options.timeoutMs}ms` } : {}),
    ...c.extraEnv,
  };
  const started = performance.now();
  // A call past its deadline (plus start-up) is killed, and reported as over its deadline.
  // In the fixture's directory: a plugin that takes a relative dataDir (the reference does) writes there.
  const result = await run(join(options.binDir, plugin), [], { env, input: stdin, netns: fixture.node.path, cwd: fixture.dir, timeoutMs: options.timeoutMs + 10_000 });
  const ms = performance.now() - started;
  let json: unknown;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    json = undefined;
  }
  return { code: result.code, json, ms, stderr: result.stderr };
}

function allocationFiles(dataDir: string): string[] {
  const found: string[] = [];
  for (const network of readdirSync(dataDir)) {
    const dir = join(dataDir, network);
    if (!statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir)) if (parseIp(name)) found.push(`${network}/${name}`);
  }
  return found;
}

function delegateFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
}

/** What the node and pod namespaces hold that no live attachment owns (after DEL, none is live). */
async function leftovers(fixture: NodeFixture, pod: Netns | undefined): Promise<string[]> {
  const problems: string[] = [];
  const snapshot = await fixture.node.exec('sh', ['-c', 'ip -d -j link show; echo @@; iptables-save -t nat; echo @@; ip6tables-save -t nat; echo @@; nft list tables']);
  const [linkText = '', nat4 = '', nat6 = '', tables = ''] = snapshot.split('@@\n');
  const links = parseIpJson<IpLink>(linkText);
  for (const text of links.unreadable) problems.push(`unreadable ip -json entry in the node namespace: ${text}`);
  const masters = new Set(links.entries.map((l) => l.master).filter(Boolean));
  for (const link of links.entries) {
    const bridgeWithoutPorts = link.linkinfo?.info_kind === 'bridge' && !masters.has(link.ifname);
    if (link.ifname !== 'lo' && !bridgeWithoutPorts) problems.push(`leaked link "${link.ifname}" (${link.linkinfo?.info_kind ?? 'unknown kind'}) in the node namespace`);
  }
  for (const [family, text] of [['iptables', nat4], ['ip6tables', nat6]] as const) {
    const rules = text.split('\n').filter((l) => /weft-bridge|WEFT-MASQ|CNI-|id: "/.test(l));
    if (rules.length) problems.push(`leaked ${family} nat rules: ${rules.slice(0, 3).join(' | ')}`);
  }
  // iptables-save itself makes iptables-nft's own tables (table ip nat...): only other tables are leftovers.
  const leaked = tables.split('\n').filter((t) => t.trim() !== '' && !/^table ip6? (nat|filter|mangle|raw|security)$/.test(t.trim()));
  if (leaked.length) problems.push(`leaked nftables tables: ${leaked.join(', ')}`);
  for (const file of allocationFiles(fixture.paths.dataDir)) problems.push(`leaked allocation file ${file}`);
  for (const file of delegateFiles(fixture.paths.vxlanDataDir)) problems.push(`leaked delegate config ${file}`);
  if (pod) {
    const podLinks = parseIpJson<IpLink>(await pod.exec('ip', ['-j', 'link', 'show'])).entries.map((l) => l.ifname).filter((n) => n !== 'lo');
    if (podLinks.length) problems.push(`leaked link ${podLinks.map((n) => `"${n}"`).join(', ')} in the pod namespace`);
  }
  return problems;
}

function gcConfig(fixture: NodeFixture): string {
  return JSON.stringify({
    cniVersion: '1.1.0',
    name: 'fuzz-gc',
    type: 'weft-bridge',
    bridge: 'fzgc',
    ipam: { type: 'weft-host-local', dataDir: fixture.paths.dataDir, subnet: '10.63.0.0/24' },
    'cni.dev/valid-attachments': [],
  });
}

/** Codes a plugin answers from validation alone, before it touches the kernel or a file. */
const VALIDATION_CODES = new Set([1, 4, 6, 7]);

async function runCase(options: KernelFuzzOptions, fixture: NodeFixture, c: CniCase, before: ReadonlySet<string>): Promise<{ problems: string[]; addOk: boolean; after: Set<string> }> {
  const problems: string[] = [];
  const pod = c.netns === undefined ? await options.createNetns(`fz${c.index}p`) : undefined;
  try {
    const netns = c.netns ?? pod!.path;
    const add = await call(options, fixture, c, 'ADD', netns, c.stdin);
    problems.push(...expectationProblems(c, add));
    if (add.code !== 0 && add.json === undefined) problems.push(`stdout is not JSON (exit ${add.code}): ${add.stderr.slice(0, 200)}`);
    const del = await call(options, fixture, c, 'DEL', netns, c.stdin);
    if (add.code === 0 && del.code !== 0) problems.push(`DEL failed after a successful ADD: ${JSON.stringify(del.json ?? del.stderr).slice(0, 300)}`);
    if (del.code !== 0 && specErrorProblem(del.json)) problems.push(`DEL: ${specErrorProblem(del.json)}`);
    for (const [verb, outcome] of [['ADD', add], ['DEL', del]] as const) {
      if (outcome.ms > options.timeoutMs + 3_000) problems.push(`${verb} took ${Math.round(outcome.ms)} ms, past its deadline of ${options.timeoutMs} ms`);
    }
    // Only what this case left counts against it; an earlier case's leftovers were reported with that case.
    const after = new Set(await leftovers(fixture, pod));
    problems.push(...[...after].filter((p) => !before.has(p)));
    // GC's outcome depends only on what the node holds: a case that validation refused and that left
    // nothing (checked above) cannot change it, so GC runs after the cases that may have touched it.
    const touched = add.code === 0 || !VALIDATION_CODES.has((add.json as { code?: number } | undefined)?.code ?? -1);
    if (options.implementation === 'weft' && touched) {
      const gc = await call(options, fixture, { ...c, plugin: 'weft-bridge', extraEnv: {}, cniArgs: undefined } as CniCase, 'GC', undefined, gcConfig(fixture));
      if (gc.code !== 0) problems.push(`GC of the node failed: ${JSON.stringify(gc.json ?? gc.stderr).slice(0, 300)}`);
    }
    return { problems, addOk: add.code === 0, after };
  } finally {
    if (pod) await options.deleteNetns(pod);
  }
}

/** Runs the corpus through the real executables; never throws for a failing case (the summary lists it). */
export async function runKernelFuzz(options: KernelFuzzOptions): Promise<KernelFuzzSummary> {
  const started = performance.now();
  const failures: CaseFailure[] = [];
  let ran = 0;
  let addSucceeded = 0;
  const notRun: Record<string, number> = {};
  const worker = async (w: number): Promise<void> => {
    const mine = Array.from({ length: options.cases }, (_, i) => i).filter((i) => i % options.workers === w);
    for (let b = 0; b * options.batch < mine.length; b++) {
      const fixture = await makeNode(options, w, b);
      let before: ReadonlySet<string> = new Set();
      try {
        for (const index of mine.slice(b * options.batch, (b + 1) * options.batch)) {
          const generated = generateCniCase(options.seed, index, fixture.paths);
          const c = options.implementation === 'reference' ? forReference(generated) : generated;
          if (!c) continue;
          if (options.implementation === 'reference' && c.harmsReference) {
            notRun[c.harmsReference] = (notRun[c.harmsReference] ?? 0) + 1;
            continue;
          }
          ran++;
          const { problems, addOk, after } = await runCase(options, fixture, c, before);
          before = new Set([...after].filter((p) => !p.includes('pod namespace')));
          if (addOk) addSucceeded++;
          if (problems.length) failures.push({ index, plugin: c.plugin, mutations: c.mutations, problems });
        }
      } finally {
        await options.deleteNetns(fixture.node);
        rmSync(fixture.dir, { recursive: true, force: true });
      }
      options.progress?.(`[fuzz] ${options.implementation} worker ${w}: ${Math.min((b + 1) * options.batch, mine.length)}/${mine.length} cases, ${failures.length} failing so far`);
    }
  };
  await Promise.all(Array.from({ length: options.workers }, (_, w) => worker(w)));
  const byProblem: Record<string, number> = {};
  for (const f of failures) for (const kind of new Set(f.problems.map(problemKind))) byProblem[kind] = (byProblem[kind] ?? 0) + 1;
  failures.sort((a, b) => a.index - b.index);
  return { implementation: options.implementation, seed: options.seed, ran, addSucceeded, addFailed: ran - addSucceeded, notRun, failures, byProblem, seconds: (performance.now() - started) / 1000 };
}

/** One line per failing case, for test output and the script. */
export function describeFailures(summary: KernelFuzzSummary, limit = 50): string {
  return summary.failures
    .slice(0, limit)
    .map((f) => `case ${f.index} (${f.plugin}; ${f.mutations.join(' + ')}): ${f.problems.join('; ')}`)
    .join('\n');
}
