import { createSelfInvoker } from '../cni/in-process.ts';
import { hostLocalPlugin } from '../host-local/main.ts';
import { processIO } from '../cni/process-io.ts';
import { runPlugin } from '../cni/skeleton.ts';
import { createBridgePlugin } from './plugin.ts';

export async function main(_argv: string[]): Promise<number> {
  return runPlugin(createBridgePlugin({ invoke: createSelfInvoker({ 'weft-host-local': hostLocalPlugin }) }), processIO('weft-bridge'));
}
