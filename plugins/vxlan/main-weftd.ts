import { createLogger, parseLogLevel } from '../../lib/log.ts';
import { runDaemon } from './daemon.ts';
import { EtcdClient } from './etcd-client.ts';
import { EtcdSubnetManager } from './etcd-subnet-manager.ts';
import { parseWeftdArgs, WEFTD_USAGE, type WeftdArgs } from './weftd-args.ts';

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write(WEFTD_USAGE);
    return 0;
  }
  let args: WeftdArgs;
  try {
    args = parseWeftdArgs(argv);
  } catch (error) {
    process.stderr.write(`weftd: ${(error as Error).message}\n${WEFTD_USAGE}`);
    return 2;
  }
  const log = createLogger({ component: 'weftd', level: parseLogLevel(args.logLevel ?? process.env.WEFT_LOG_LEVEL, 'info') });
  const stop = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
  const manager = new EtcdSubnetManager(new EtcdClient(args.etcdEndpoints), { prefix: args.etcdPrefix, log });
  return runDaemon(
    { iface: args.iface, publicIp: args.publicIp, subnetFile: args.subnetFile, ipMasq: args.ipMasq, healthzPort: args.healthzPort, renewIntervalMs: args.renewIntervalMs },
    { manager, log, signal: stop.signal },
  );
}
