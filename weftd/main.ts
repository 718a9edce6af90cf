import { createLogger, parseLogLevel, type Logger } from '../lib/log.ts';
import { runDaemon } from './daemon.ts';
import { EtcdClient } from './subnet/etcd-client.ts';
import { EtcdSubnetManager } from './subnet/etcd-subnet-manager.ts';
import type { createKubeSubnetManager } from './subnet/kube-subnet-manager.ts';
import type { SubnetManager } from './subnet/subnet-manager.ts';
import { parseWeftdArgs, WEFTD_USAGE, type SubnetManagerChoice, type WeftdArgs } from './args.ts';

/**
 * Loads the kube subnet manager, which carries the Kubernetes client: weftd's own bundle leaves it out
 * (bin/overlay-daemon.ts), so the etcd mode never reads or compiles that client.
 */
export type KubeSubnetManagerLoader = () => Promise<typeof createKubeSubnetManager>;

async function createSubnetManager(choice: SubnetManagerChoice, log: Logger, loadKube: KubeSubnetManagerLoader): Promise<SubnetManager> {
  if (choice.kind === 'etcd') return new EtcdSubnetManager(new EtcdClient(choice.endpoints), { prefix: choice.prefix, log });
  return (await loadKube())(choice, { log });
}

export async function main(argv: string[], options: { loadKubeSubnetManager: KubeSubnetManagerLoader }): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write(WEFTD_USAGE);
    return 0;
  }
  let args: WeftdArgs;
  try {
    args = parseWeftdArgs(argv, { env: process.env });
  } catch (error) {
    process.stderr.write(`weftd: ${(error as Error).message}\n${WEFTD_USAGE}`);
    return 2;
  }
  const log = createLogger({ component: 'weftd', level: parseLogLevel(args.logLevel ?? process.env.WEFT_LOG_LEVEL, 'info') });
  const stop = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
  let manager: SubnetManager;
  try {
    manager = await createSubnetManager(args.subnetManager, log, options.loadKubeSubnetManager);
  } catch (error) {
    log.error('cannot start: no usable subnet manager', { error });
    return 1;
  }
  return runDaemon(args, { manager, log, signal: stop.signal });
}
