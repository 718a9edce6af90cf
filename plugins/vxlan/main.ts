import { createLogger, parseLogLevel } from '../../lib/log.ts';
import { createBridgePlugin } from '../bridge/plugin.ts';
import { createSelfInvoker } from '../cni/in-process.ts';
import { processIO } from '../cni/process-io.ts';
import { runPlugin } from '../cni/skeleton.ts';
import { hostLocalPlugin } from '../host-local/main.ts';
import { createVxlanPlugin } from './cni-plugin.ts';

// In the single executable the default delegates (weft-bridge, and its weft-host-local) are this
// same file: run them in-process instead of paying a Node start for each.
const bridgeInProcess = () => createBridgePlugin({ invoke: createSelfInvoker({ 'weft-host-local': hostLocalPlugin }) });

export async function main(_argv: string[]): Promise<number> {
  const invoke = createSelfInvoker({ 'weft-bridge': bridgeInProcess, 'weft-host-local': hostLocalPlugin });
  const log = createLogger({ component: 'weft-vxlan', level: parseLogLevel(process.env.WEFT_LOG_LEVEL, 'warn'), file: process.env.WEFT_LOG_FILE || undefined });
  return runPlugin(createVxlanPlugin({ invoke, log }), processIO('weft-vxlan'));
}
