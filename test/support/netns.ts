import { randomBytes } from 'node:crypto';
import { listNamespaces, NetnsScope as PrefixedScope } from '../../lab/netns.ts';

// Namespaces for tests. Every name carries this run's prefix (set once per vitest run in
// vitest.config.ts) so two runs never collide and the global teardown can remove what a crashed test left.

export { deleteNetns, type Netns } from '../../lab/netns.ts';

export const RUN_ID: string = process.env.WEFT_TEST_RUN ?? randomBytes(3).toString('hex');
export const NETNS_PREFIX = `wt-${RUN_ID}-`;

export class NetnsScope extends PrefixedScope {
  constructor() {
    super(NETNS_PREFIX);
  }
}

export function listRunNamespaces(): Promise<string[]> {
  return listNamespaces(NETNS_PREFIX);
}
