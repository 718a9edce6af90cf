import { availableParallelism } from 'node:os';
import type { Backend, BackendResult, ServiceDiff } from '../core/backend.ts';
import type { ProxyConfig } from '../core/config.ts';
import type { ServicePortState } from '../core/state.ts';
import type { NftKernel } from './kernel.ts';
import { renderPartialSync, type GroupUse } from './partial-sync.ts';
import { buildTable } from './render.ts';
import { countPayloadLines, renderFreshLoad, renderFullSync } from './table.ts';

// The nftables backend (--proxy-mode nftables): a full sync replaces the `ip weft` table in one
// transaction, or on a node without it loads it in parts on up to LOAD_PARTS cores (hooks last); a
// partial sync applies the changed Services' differences (partial-sync.ts). Between syncs it remembers
// only how many ports use each endpoint-count group. A failed apply changes nothing traffic meets (a
// failed load leaves at most a table without hooks), and the core follows it with a full sync, which
// then replaces that table in one transaction.

/** Element parts of a fresh load: past four, the kernel's commits (one at a time) gain little. */
const LOAD_PARTS = Math.min(4, availableParallelism());

function result(payload: string): BackendResult {
  return { written: { weft: countPayloadLines(payload) }, payload };
}

export class NftablesBackend implements Backend {
  readonly mode = 'nftables';
  readonly #kernel: NftKernel;
  #use: GroupUse = new Map();

  constructor(kernel: NftKernel) {
    this.#kernel = kernel;
  }

  async fullSync(servicePorts: readonly ServicePortState[], config: ProxyConfig): Promise<BackendResult> {
    const { table, groups } = buildTable(servicePorts, config);
    const checking = performance.now();
    const present = await this.#kernel.hasTable();
    let kernelMs = performance.now() - checking;
    const fresh = present ? undefined : renderFreshLoad(table, LOAD_PARTS);
    const payload = fresh ? [fresh.structure, ...fresh.elements, fresh.hooks].join('') : renderFullSync(table);
    const applying = performance.now();
    await (fresh ? this.#kernel.load(fresh) : this.#kernel.replace(payload));
    kernelMs += performance.now() - applying;
    this.#use = groups;
    const written = { weft: table.chains.reduce((n, c) => n + c.rules.length, 0) + table.sets.reduce((n, s) => n + (s.elements?.length ?? 0), 0) };
    return { written, payload, kernelMs };
  }

  async partialSync(diffs: readonly ServiceDiff[], config: ProxyConfig): Promise<BackendResult | undefined> {
    const next = renderPartialSync(diffs, this.#use, config);
    if (next === undefined) return undefined;
    await this.#kernel.update(next.payload);
    this.#use = next.use;
    return result(next.payload);
  }

  async cleanup(): Promise<boolean> {
    this.#use = new Map();
    return this.#kernel.deleteTable();
  }

  close(): void {
    this.#kernel.close();
  }
}
