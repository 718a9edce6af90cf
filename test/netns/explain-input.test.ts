import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_26 } from '../../lab/commands.ts';
import type { OverlayNode } from '../../lab/node.ts';
import { run } from '../../lib/exec.ts';
import { NetnsScope } from '../support/netns.ts';
import { HTTP_PORT, runWeft, startTroubleshootLab, stopTroubleshootLab, WEB_IP, type TroubleshootLab } from './troubleshoot-lab.ts';

// Bad input to weft explain, weft doctor and kubectl weft: one clear line on stderr, exit 2, nothing
// on stdout, and nothing changed on the node (rules, devices, routes, fabric entries, state files).

const ROOT = resolve(import.meta.dirname, '../..');

async function snapshot(node: OverlayNode): Promise<string> {
  const parts: string[] = [];
  for (const [file, args] of [
    ['iptables-save', []],
    ['iptables-legacy-save', []],
    ['nft', ['list', 'ruleset']],
    ['ip', ['-d', 'addr', 'show']],
    ['ip', ['route', 'show', 'table', 'all']],
    ['ip', ['neigh', 'show', 'nud', 'permanent']],
    ['bridge', ['fdb', 'show', 'dev', 'weft.1']],
  ] as const) {
    // Packet counters and bridge timers move on their own (weftd's lease renewals, STP ageing), and so do
    // IPv6 link-local addresses and their routes (a new veth's address leaves "tentative" when DAD ends): not a change.
    const out = await node.ns.exec(file, [...args]);
    parts.push(out.split('\n').filter((l) => !l.startsWith('# ') && !l.includes(' fe80::')).join('\n').replace(/\[\d+:\d+\]/g, '[]').replace(/counter packets \d+ bytes \d+/g, 'counter').replace(/\b\w+_timer\s+[\d.]+/g, ''));
  }
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
  parts.push(files(node.dir).filter((f) => !f.endsWith('.log')).sort().join('\n'));
  return parts.join('\n----\n');
}

function kubectlWeft(args: readonly string[], env: NodeJS.ProcessEnv) {
  const [file, ...prefix] = process.env.WEFT_BIN_DIR ? [join(resolve(process.env.WEFT_BIN_DIR), 'kubectl-weft')] : [NODE_26, join(ROOT, 'bin/weft.ts'), 'kubectl-weft'];
  return run(file as string, [...prefix, ...args], { env });
}

describe('bad input: one clear line, exit 2, nothing changed', () => {
  const scope = new NetnsScope();
  let lab: TroubleshootLab;
  const emptyHome = mkdtempSync(join(tmpdir(), 'weft-home-'));
  const noKube = { PATH: process.env.PATH, HOME: emptyHome };

  beforeAll(async () => {
    lab = await startTroubleshootLab(scope, { mode: 'iptables', net: '172.30.97' });
  });
  afterAll(async () => {
    await stopTroubleshootLab(lab, scope);
    rmSync(emptyHome, { recursive: true, force: true });
  });

  const cases: [string, (l: TroubleshootLab) => string[], RegExp][] = [
    ['weft explain with a malformed address', () => ['explain', '--from', '10.244.1', '--to', `${WEB_IP}:80`], /^weft explain: cannot parse "--from": "10\.244\.1" is not an IPv4 address/],
    ['weft explain with a port out of range', (l) => ['explain', '--from', l.pod('n1p1').ip, '--to', `${WEB_IP}:70000`], /^weft explain: cannot parse "--to": ".*:70000" has port "70000": not a number from 1 to 65535$/],
    ['weft explain with a port that is no number', (l) => ['explain', '--from', l.pod('n1p1').ip, '--to', `${WEB_IP}:http`], /has port "http": not a number/],
    ['weft explain with a protocol other than tcp or udp', (l) => ['explain', '--from', l.pod('n1p1').ip, '--to', `${WEB_IP}:80/sctp`], /has protocol "sctp": only tcp and udp$/],
    ['weft explain with an unknown flag', () => ['explain', '--form', '10.0.0.1'], /^weft explain: cannot parse "--form": unknown flag$/],
    ['weft explain with a flag given twice', (l) => ['explain', '--from', l.pod('n1p1').ip, '--from', l.pod('n1p2').ip, '--to', `${WEB_IP}:80`], /^weft explain: cannot parse "--from": given more than once$/],
    ['weft explain with no destination', (l) => ['explain', '--from', l.pod('n1p1').ip], /^weft explain: flag "--to" is required$/],
    ['weft explain with an interface the node does not have', (l) => ['explain', '--from', l.pod('n1p1').ip, '--to', `${WEB_IP}:80`, '--in', 'eth9'], /^weft explain: flag "--in": "eth9" is not an interface of this node$/],
    ['weft explain with a Pod name without any kubeconfig', () => ['explain', '--from', 'pod/default/web-0', '--to', `${WEB_IP}:80`], /^weft explain: cannot reach Kubernetes: no kubeconfig/],
    ['weft explain with a kubeconfig that does not exist', () => ['explain', '--from', 'pod/default/web-0', '--to', `${WEB_IP}:80`, '--kubeconfig', '/nonexistent/kubeconfig'], /^weft explain: cannot read kubeconfig "\/nonexistent\/kubeconfig": no such file$/],
    ['weft doctor with an unknown flag', () => ['doctor', '--verbose'], /^weft doctor: cannot parse "--verbose": unknown flag$/],
    ['weft doctor with a malformed health address', () => ['doctor', '--proxy-healthz', 'localhost'], /^weft doctor: flag "--proxy-healthz" must be IPv4:PORT, got "localhost"$/],
  ];

  it.each(cases)('%s', async (_what, args, message) => {
    const node = lab.node(1);
    const before = await snapshot(node);
    const [file, ...prefix] = process.env.WEFT_BIN_DIR ? [join(resolve(process.env.WEFT_BIN_DIR), 'weft')] : [NODE_26, join(ROOT, 'bin/weft.ts')];
    const result = await run(file as string, [...prefix, ...args(lab)], { netns: node.ns.path, env: noKube });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
    expect(await snapshot(node)).toBe(before);
  });

  it('a node without weft: explain and doctor say so and change nothing', async () => {
    const bare = await scope.create('bare');
    const [file, ...prefix] = process.env.WEFT_BIN_DIR ? [join(resolve(process.env.WEFT_BIN_DIR), 'weft')] : [NODE_26, join(ROOT, 'bin/weft.ts')];
    const rules = await bare.exec('nft', ['list', 'ruleset']);
    for (const args of [['explain', '--from', '10.0.0.1', '--to', '10.0.0.2:80'], ['doctor']]) {
      const result = await run(file as string, [...prefix, ...args], { netns: bare.path, env: noKube });
      expect(result.code).toBe(2);
      expect(result.stderr.trim()).toMatch(/^weft (explain|doctor): cannot (explain on|check) this node: weft does not run here \(no weftd in this network namespace/);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(await bare.exec('nft', ['list', 'ruleset'])).toBe(rules);
  });

  it('a working explanation still leaves the node as it was', async () => {
    const node = lab.node(1);
    const before = await snapshot(node);
    const result = await runWeft(lab, node, ['explain', '--from', lab.pod('n1p1').ip, '--to', `${lab.pod('n2p1').ip}:${HTTP_PORT}`]);
    expect(result.code).toBe(0);
    expect(await snapshot(node)).toBe(before);
  });

  it('kubectl weft without a kubeconfig, with an unknown command or a malformed name', async () => {
    const cases: [string[], RegExp][] = [
      [['explain', 'pod/default/a', 'svc/default/b'], /^kubectl weft: cannot reach Kubernetes: no kubeconfig/],
      [['doctor'], /^kubectl weft: cannot reach Kubernetes: no kubeconfig/],
      [['explain', 'pod/default/a', 'svc/default/b:99999'], /^kubectl weft: cannot parse "--to": "svc\/default\/b:99999" has port "99999"/],
      [['trace', 'x'], /^kubectl weft: unknown command "trace" \(explain or doctor\)$/],
      [['explain', 'pod/default/a'], /^kubectl weft: give SRC and DST, as two arguments or as --from and --to$/],
    ];
    for (const [args, message] of cases) {
      const result = await kubectlWeft(args, noKube);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.trim()).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
