import type { Backend, BackendResult, ServiceDiff } from '../core/backend.ts';
import type { ProxyConfig } from '../core/config.ts';
import type { ServicePortState } from '../core/state.ts';
import type { AppliedRules } from './applied.ts';
import { renderCleanup } from './cleanup.ts';
import { builtinJumps, missingJumps } from './jumps.ts';
import type { IptablesKernel } from './kernel.ts';
import { renderPartialSync } from './partial-sync.ts';
import { renderFullSync } from './render.ts';
import { parseSaved } from './saved.ts';

// The iptables backend (--proxy-mode iptables, the node's iptables variant): a full sync reads the
// kernel's rules, then declares and writes every chain of ours in one restore; a partial sync writes
// only what the changed Services alter (partial-sync.ts) against the record of what this process
// applied. A failed restore changes nothing (one transaction per table); the core then runs a full sync.

export class IptablesBackend implements Backend {
  readonly mode = 'iptables';
  readonly #kernel: IptablesKernel;
  #applied: AppliedRules | undefined;

  constructor(kernel: IptablesKernel) {
    this.#kernel = kernel;
  }

  async fullSync(servicePorts: readonly ServicePortState[], config: ProxyConfig): Promise<BackendResult> {
    this.#applied = undefined;
    const saving = performance.now();
    const saved = parseSaved(await this.#kernel.save());
    const savedMs = performance.now() - saving;
    const { payload, applied, written } = renderFullSync(servicePorts, config, { existingChains: saved.chains, jumps: missingJumps(builtinJumps(), saved) });
    const restoring = performance.now();
    await this.#kernel.restore(payload);
    this.#applied = applied;
    return { written, payload, kernelMs: savedMs + performance.now() - restoring };
  }

  async partialSync(diffs: readonly ServiceDiff[], config: ProxyConfig): Promise<BackendResult | undefined> {
    if (this.#applied === undefined) return undefined;
    const { payload, change, written } = renderPartialSync(diffs, this.#applied, config);
    try {
      await this.#kernel.restore(payload);
    } catch (error) {
      this.#applied = undefined;
      throw error;
    }
    this.#applied.update(change);
    return { written, payload };
  }

  async cleanup(): Promise<boolean> {
    if ((await this.#kernel.variant()) === undefined) return false;
    const payload = renderCleanup(parseSaved(await this.#kernel.save()));
    this.#applied = undefined;
    if (payload === '') return false;
    await this.#kernel.restore(payload);
    return true;
  }

  close(): void {}
}
