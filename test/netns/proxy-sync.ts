import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from '../../lib/exec.ts';
import { createLogger } from '../../lib/log.ts';
import type { Backend } from '../../proxy/core/backend.ts';
import { ChangeTracker, type ObjectKind } from '../../proxy/core/change-tracker.ts';
import { conntrackKernel } from '../../proxy/core/conntrack.ts';
import { Proxier } from '../../proxy/core/proxier.ts';
import { IptablesBackend } from '../../proxy/iptables/backend.ts';
import { iptablesKernel, type IptablesVariant } from '../../proxy/iptables/kernel.ts';
import { NftablesBackend } from '../../proxy/nftables/backend.ts';
import { nftKernel } from '../../proxy/nftables/kernel.ts';

// The daemon's own sync path (change tracker, proxier, backends on the real kernel) inside a test's
// node namespace, fed API objects directly instead of through an API server.

export interface ProxyUnderTest {
  readonly tracker: ChangeTracker;
  readonly proxier: Proxier;
  /** Applies API objects as watch events: `null` deletes the object of that kind and name. */
  upsert(...objects: readonly Record<string, unknown>[]): void;
  remove(kind: ObjectKind, namespace: string, name: string): void;
}

const open = new Set<Backend>();

export function backendsIn(netns: string, variant: IptablesVariant = 'nft'): { iptables: Backend; nftables: Backend } {
  const made = { iptables: new IptablesBackend(iptablesKernel({ netns, variant })), nftables: new NftablesBackend(nftKernel({ netns })) };
  open.add(made.iptables).add(made.nftables);
  return made;
}

/** Ends every backend's long-lived processes (for afterAll). */
export function closeBackends(): void {
  for (const b of open) b.close();
  open.clear();
}

export function proxyIn(netns: string, options: { mode: 'iptables' | 'nftables'; variant?: IptablesVariant; hostname?: string }): ProxyUnderTest {
  const tracker = new ChangeTracker(options.hostname ?? 'node-1');
  const { iptables, nftables } = backendsIn(netns, options.variant);
  const [backend, other] = options.mode === 'iptables' ? [iptables, nftables] : [nftables, iptables];
  const proxier = new Proxier({ backend, otherModes: [other], tracker, conntrack: conntrackKernel({ netns }), log: createLogger({ component: 'test', level: 'error', file: '/dev/null' }) });
  return {
    tracker,
    proxier,
    upsert: (...objects) => {
      for (const object of objects) tracker.apply({ kind: object.kind as ObjectKind, type: 'upsert', object });
    },
    remove: (kind, namespace, name) => {
      tracker.apply({ kind, type: 'delete', object: { metadata: { namespace, name } } });
    },
  };
}

const WEFT_ENTRY = fileURLToPath(new URL('../../bin/weft.ts', import.meta.url));

/** `weft-proxy ARGS` in `netns`: the built executable when WEFT_BIN_DIR is set, else the sources. */
export function runWeftProxy(netns: string, args: readonly string[]): Promise<RunResult> {
  const [file, argv] = process.env.WEFT_BIN_DIR ? [join(resolve(process.env.WEFT_BIN_DIR), 'weft-proxy'), [...args]] : [process.execPath, [WEFT_ENTRY, 'weft-proxy', ...args]];
  return run(file, argv, { netns, timeoutMs: 60_000 });
}
