import type { ConntrackDeletion, ConntrackKernel } from '../../../proxy/core/conntrack.ts';
import type { IptablesKernel, IptablesVariant } from '../../../proxy/iptables/kernel.ts';
import type { NftKernel } from '../../../proxy/nftables/kernel.ts';
import type { FreshLoad } from '../../../proxy/nftables/table.ts';

// Recording stand-ins for the kernel interfaces the backends and the core are given: what each
// sync would have applied, and failures on demand.

export class FakeIptables implements IptablesKernel {
  readonly restored: string[] = [];
  saves = 0;
  saved = '';
  failNext = false;
  installed: IptablesVariant | undefined = 'nft';
  async variant() {
    return this.installed;
  }
  async save() {
    this.saves += 1;
    return this.saved;
  }
  async restore(payload: string) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('cannot apply iptables rules: line 1 failed');
    }
    if (payload !== '') this.restored.push(payload);
  }
}

export class FakeNft implements NftKernel {
  /** Each transaction, and whether it replaced the table (full) or updated it (partial). */
  readonly applied: { kind: 'replace' | 'update' | 'load'; payload: string }[] = [];
  table = false;
  failNext = false;
  closed = false;
  #apply(kind: 'replace' | 'update' | 'load', payload: string) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('cannot apply nftables rules: nft exit 1');
    }
    if (payload === '') return;
    this.applied.push({ kind, payload });
    if (kind !== 'update') this.table = true;
  }
  async hasTable() {
    return this.table;
  }
  async load(fresh: FreshLoad) {
    this.#apply('load', [fresh.structure, ...fresh.elements, fresh.hooks].join(''));
  }
  async replace(payload: string) {
    this.#apply('replace', payload);
  }
  async update(payload: string) {
    this.#apply('update', payload);
  }
  async deleteTable() {
    const had = this.table;
    this.table = false;
    return had;
  }
  close() {
    this.closed = true;
  }
}

export class FakeConntrack implements ConntrackKernel {
  readonly deleted: ConntrackDeletion[] = [];
  async deleteFlows(deletions: readonly ConntrackDeletion[]) {
    this.deleted.push(...deletions);
    return [];
  }
}
