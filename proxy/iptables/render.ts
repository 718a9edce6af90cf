import type { ProxyConfig } from '../core/config.ts';
import type { ProxyState, ServicePortState } from '../core/state.ts';
import { AppliedRules, joinDispatch, type ServiceDispatch } from './applied.ts';
import { FORWARD_CHAIN, HAIRPIN_CHAIN, NODEPORTS_CHAIN, POSTROUTING_CHAIN, SERVICES_CHAIN } from './chain-names.ts';
import { builtinJumps } from './jumps.ts';
import { portRules } from './port-rules.ts';
import { renderNodePortsEntry } from './render-dispatch.ts';
import { renderForward } from './render-filter.ts';
import { renderHairpin, renderMasquerade } from './render-masquerade.ts';
import { formatRule, type Rule, type Table } from './rules.ts';

// The payload of a full sync, for one `iptables-restore --noflush`: every chain of ours is declared
// (`:NAME - [0:0]` creates or flushes it) and written, so a restarted proxy replaces the old rules
// atomically without flushing them first; chains of ours no Service needs any more are deleted once
// nothing jumps to them; jumps from the built-in chains are inserted when missing.

export interface FullSyncOptions {
  /** WEFT- chains present in the kernel now; those no longer wanted are deleted. */
  readonly existingChains?: Readonly<Record<Table, ReadonlySet<string>>>;
  /** Jumps from built-in chains to add (the backend passes only the missing ones); default all, for a clean node. */
  readonly jumps?: readonly Rule[];
}

/** The text of one table's block: declarations, rule lines, inserted jumps, chain deletions. */
export interface TableBlock {
  readonly declare: readonly string[];
  readonly lines: readonly string[];
  readonly jumps?: readonly Rule[];
  readonly delete: readonly string[];
}

export function tableText(table: Table, block: TableBlock): string {
  const out = [`*${table}`, ...block.declare.map((c) => `:${c} - [0:0]`), ...block.lines];
  // -I puts a rule first; inserting in reverse keeps the listed order among our jumps.
  for (const j of [...(block.jumps ?? [])].reverse()) if (j.table === table) out.push(`-I ${j.chain} ${j.spec}`);
  out.push(...block.delete.map((c) => `-X ${c}`), 'COMMIT');
  return `${out.join('\n')}\n`;
}

/** The last rules of nat WEFT-SERVICES: anything addressed to the node may be a node port. */
export function nodePortsEntryLines(config: ProxyConfig): string[] {
  return renderNodePortsEntry(config.nodePortAddresses).map(formatRule);
}

export interface RenderedSync {
  readonly payload: string;
  /** Rules appended or inserted, per table. */
  readonly written: Record<Table, number>;
}

/** The payload of a full sync, and the record of what it applies for later partial syncs. */
export function renderFullSync(servicePorts: readonly ServicePortState[], config: ProxyConfig, options: FullSyncOptions = {}): RenderedSync & { applied: AppliedRules } {
  const byService = new Map<string, ServicePortState[]>();
  for (const sp of servicePorts) {
    const list = byService.get(sp.service);
    if (list) list.push(sp);
    else byService.set(sp.service, [sp]);
  }
  const natDeclare = [POSTROUTING_CHAIN, SERVICES_CHAIN, NODEPORTS_CHAIN, HAIRPIN_CHAIN];
  const natOwn: string[] = [];
  const dispatch = new Map<string, ServiceDispatch>();
  const endpointIPs: string[] = [];
  const dispatchRules = { nat: 0, filter: 0 };
  for (const [service, ports] of byService) {
    const rules = ports.map((sp) => portRules(sp, config));
    for (const r of rules) {
      for (const [chain, lines] of r.chains) {
        natDeclare.push(chain);
        natOwn.push(...lines);
      }
      endpointIPs.push(...r.endpointIPs);
      dispatchRules.nat += r.dispatch.services.length + r.dispatch.nodePorts.length;
      dispatchRules.filter += r.dispatch.verdicts.length;
    }
    dispatch.set(service, joinDispatch(rules.map((r) => r.dispatch)));
  }
  const joined = (pick: keyof ServiceDispatch) => [...dispatch.values()].map((d) => d[pick]).filter((t) => t !== '');
  const hairpin = renderHairpin(endpointIPs);
  const nodePortsEntry = nodePortsEntryLines(config);
  const masquerade = renderMasquerade(config.masqueradeMark).map(formatRule);
  const forward = renderForward(config.masqueradeMark).map(formatRule);
  const wanted = { nat: new Set(natDeclare), filter: new Set([SERVICES_CHAIN, FORWARD_CHAIN]) };
  const stale = (table: Table) => [...(options.existingChains?.[table] ?? [])].filter((c) => !wanted[table].has(c));
  const jumps = options.jumps ?? builtinJumps();
  const filter = tableText('filter', {
    declare: [FORWARD_CHAIN, SERVICES_CHAIN, ...stale('filter')],
    lines: [...forward, ...joined('verdicts')],
    jumps,
    delete: stale('filter'),
  });
  const nat = tableText('nat', {
    declare: [...natDeclare, ...stale('nat')],
    lines: [...masquerade, ...joined('services'), ...nodePortsEntry, ...joined('nodePorts'), ...hairpin.map(formatRule), ...natOwn],
    jumps,
    delete: stale('nat'),
  });
  const applied = new AppliedRules();
  applied.update({ dispatch, hairpin: endpointIPs });
  const jumpsIn = (table: Table) => jumps.filter((j) => j.table === table).length;
  const written = {
    filter: forward.length + dispatchRules.filter + jumpsIn('filter'),
    nat: masquerade.length + dispatchRules.nat + nodePortsEntry.length + hairpin.length + natOwn.length + jumpsIn('nat'),
  };
  return { payload: filter + nat, applied, written };
}

/** What a full sync would apply on a clean node (`weft-proxy render`): with every jump from the built-in chains. */
export function renderIptables(state: ProxyState, config: ProxyConfig): string {
  return renderFullSync(state.servicePorts, config).payload;
}
