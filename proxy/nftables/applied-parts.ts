import type { ProxyConfig } from '../config.ts';
import type { ServicePortState } from '../state.ts';
import { assembleTable, groupsOf, servicePortParts, type Parts } from './render.ts';
import { renderElementChanges, renderFullSync, renderTableDiff, type NftTable } from './table.ts';

// What the kernel holds, as the parts of each Service, so a partial sync compares only the changed
// Services' parts: at 10k Services rebuilding and diffing the whole table took ~440 ms of JavaScript
// against 28 ms for `nft -f` (measured). Elements are reference-counted across Services (two Services
// sharing an endpoint share its hairpin element): an element is deleted when no Service wants it.

export class AppliedParts {
  readonly #config: ProxyConfig;
  readonly #byService: Map<string, readonly Parts[]>;
  readonly #elementRefs = new Map<string, number>();
  readonly #groupRefs = new Map<number, number>();

  private constructor(config: ProxyConfig, byService: Map<string, readonly Parts[]>) {
    this.#config = config;
    this.#byService = byService;
    for (const parts of byService.values()) this.#count(parts, 1);
  }

  /** Parts of every Service port, and the full sync payload that installs them. */
  static full(servicePorts: readonly ServicePortState[], config: ProxyConfig): { applied: AppliedParts; payload: string; table: NftTable } {
    const byService = new Map<string, Parts[]>();
    for (const sp of servicePorts) {
      const list = byService.get(sp.service) ?? [];
      if (list.length === 0) byService.set(sp.service, list);
      list.push(servicePortParts(sp, config));
    }
    const all = [...byService.values()].flat();
    const table = assembleTable(all, groupsOf(all), config);
    return { applied: new AppliedParts(config, byService), payload: renderFullSync(table), table };
  }

  sameConfig(config: ProxyConfig): boolean {
    return JSON.stringify(config) === JSON.stringify(this.#config);
  }

  get groups(): number[] {
    return [...this.#groupRefs.keys()].sort((a, b) => a - b);
  }

  #count(parts: readonly Parts[], delta: 1 | -1): { zeroed: string[]; born: string[] } {
    const zeroed: string[] = [];
    const born: string[] = [];
    for (const p of parts) {
      if (p.group !== undefined) {
        const n = (this.#groupRefs.get(p.group) ?? 0) + delta;
        if (n === 0) this.#groupRefs.delete(p.group);
        else this.#groupRefs.set(p.group, n);
      }
      for (const e of p.elements) {
        const n = (this.#elementRefs.get(e) ?? 0) + delta;
        if (n === 0) {
          this.#elementRefs.delete(e);
          zeroed.push(e);
        } else {
          this.#elementRefs.set(e, n);
          if (n === 1 && delta === 1) born.push(e);
        }
      }
    }
    return { zeroed, born };
  }

  /**
   * The payload turning the applied parts into those of `servicePorts` for the Services in `changed`
   * (others are taken as unchanged), and the record updated in place; undefined when only a full
   * sync can do it (a declaration changed in place).
   */
  partial(servicePorts: readonly ServicePortState[], changed: ReadonlySet<string>): string | undefined {
    const next = new Map<string, Parts[]>([...changed].map((s) => [s, []]));
    for (const sp of servicePorts) next.get(sp.service)?.push(servicePortParts(sp, this.#config));
    const oldParts = [...changed].flatMap((s) => this.#byService.get(s) ?? []);
    const newParts = [...next.values()].flat();
    const oldGroups = this.groups;
    const removed = this.#count(oldParts, -1);
    const added = this.#count(newParts, 1);
    const stillWanted = new Set(removed.zeroed.filter((e) => this.#elementRefs.has(e)));
    const deleted = removed.zeroed.filter((e) => !stillWanted.has(e));
    const fresh = added.born.filter((e) => !stillWanted.has(e));
    const declarations = (parts: readonly Parts[], groups: readonly number[]) => {
      const t = assembleTable(parts, groups, this.#config);
      return { ...t, sets: t.sets.map((s) => (s.elements ? { ...s, elements: [] } : s)) };
    };
    const payload = renderTableDiff(declarations(oldParts, oldGroups), declarations(newParts, this.groups), { elementLines: renderElementChanges(deleted, fresh) });
    for (const [service, parts] of next) {
      if (parts.length === 0) this.#byService.delete(service);
      else this.#byService.set(service, parts);
    }
    return payload;
  }
}
