import { hostname } from 'node:os';
import { counts, exitCode } from '../doctor/check.ts';
import { proxyHealthAddress, proxyMode, type ProxyHealth } from '../doctor/proxy-check.ts';
import { renderReport } from '../doctor/render-report.ts';
import { runChecks } from '../doctor/run-checks.ts';
import { booleanFlag, parseFlags, stringFlag, UsageError } from './args.ts';
import { readWeftNode } from './node-check.ts';

// `weft doctor`: checks this node and says how to fix what is wrong. Exit 0 healthy, 1 warnings,
// 2 errors (or a question it cannot answer: bad flags, no weft on this node). Reads only.

const DOCTOR_USAGE = `usage: weft doctor [--json] [--proxy-healthz HOST:PORT]
         [--subnet-file FILE] [--cni-conf-dir DIR] [--cni-bin-dir DIR]
  Checks forwarding and bridge netfilter, reverse-path filtering, the VXLAN device, every peer's route,
  neighbour and FDB entry, the subnet file, lease renewals, the CNI config and plugins, IPAM leaks and
  pool use, weft-proxy's health, iptables backends, conntrack. Exit 0 healthy, 1 warnings, 2 errors.
`;

const FLAGS = { json: 'boolean', 'proxy-healthz': 'string', 'subnet-file': 'string', 'cni-conf-dir': 'string', 'cni-bin-dir': 'string', help: 'boolean' } as const;
const HEALTH_TIMEOUT_MS = 1_500;

async function readProxyHealth(address: string): Promise<ProxyHealth> {
  try {
    const response = await fetch(`http://${address}/healthz`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    return { address, status: response.status, body: await response.text() };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
    return { address, error: cause };
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseFlags(argv, FLAGS);
    if (booleanFlag(args, 'help')) {
      process.stdout.write(DOCTOR_USAGE);
      return 0;
    }
    const healthFlag = stringFlag(args, 'proxy-healthz');
    if (healthFlag !== undefined && !/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/.test(healthFlag)) throw new UsageError(`flag "--proxy-healthz" must be IPv4:PORT, got "${healthFlag}"`);
    const state = await readWeftNode(args, 'check');
    const health = proxyMode(state) || state.weft.proxy ? await readProxyHealth(healthFlag ?? proxyHealthAddress(state.weft.proxy?.args)) : undefined;
    const results = runChecks(state, health, Date.now());
    const code = exitCode(results);
    if (booleanFlag(args, 'json')) {
      process.stdout.write(`${JSON.stringify({ node: state.weft.publicIp ?? null, hostname: hostname(), checks: results, summary: counts(results), exit: code }, null, 2)}\n`);
    } else process.stdout.write(renderReport(results));
    return code;
  } catch (error) {
    process.stderr.write(`weft doctor: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
}
