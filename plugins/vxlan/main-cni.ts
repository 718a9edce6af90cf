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
  return runPlugin(createVxlanPlugin({ invoke }), processIO('weft-vxlan'));
}
