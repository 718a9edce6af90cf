import type { ServiceDiff } from '../core/backend.ts';
import type { ProxyConfig } from '../core/config.ts';
import { joinDispatch, type AppliedChange, type AppliedRules, type ServiceDispatch } from './applied.ts';
import { NODEPORTS_CHAIN, SERVICES_CHAIN } from './chain-names.ts';
import { portRules, type PortRules } from './port-rules.ts';
import { nodePortsEntryLines, tableText, type RenderedSync } from './render.ts';
import { renderHairpin } from './render-masquerade.ts';
import { formatRule } from './rules.ts';

// What a partial sync writes: for each changed Service, the own chains whose rules differ before and
// after (declared, so flushed, and rewritten), its chains no longer needed (flushed, then deleted),
// a dispatch chain rewritten whole only when a changed Service's lines in it differ, and hairpin
// rules appended for endpoint addresses not covered yet. A rule left for an address that is no
// endpoint any more never matches (the chain sees only DNATed connections, and nothing is DNATed to
// it); the next full sync drops it. A table with nothing to write is left out of the payload.

function chainTexts(rules: readonly PortRules[]): Map<string, string> {
  const texts = new Map<string, string>();
  for (const r of rules) for (const [chain, lines] of r.chains) texts.set(chain, lines.join('\n'));
  return texts;
}

export function renderPartialSync(diffs: readonly ServiceDiff[], applied: AppliedRules, config: ProxyConfig): RenderedSync & { change: AppliedChange } {
  const declare: string[] = [];
  const lines: string[] = [];
  let ownRules = 0;
  const stale: string[] = [];
  const dispatch = new Map<string, ServiceDispatch>();
  const hairpin = new Set<string>();
  const dispatchChanged = { services: false, nodePorts: false, verdicts: false };
  for (const diff of diffs) {
    const after = diff.after.map((sp) => portRules(sp, config));
    const had = chainTexts(diff.before.map((sp) => portRules(sp, config)));
    const wanted = chainTexts(after);
    for (const [chain, text] of wanted) {
      if (had.get(chain) === text) continue;
      declare.push(chain);
      if (text !== '') lines.push(text);
      ownRules += after.reduce((n, r) => n + (r.chains.get(chain)?.length ?? 0), 0);
    }
    for (const chain of had.keys()) if (!wanted.has(chain)) stale.push(chain);
    const now = joinDispatch(after.map((r) => r.dispatch));
    const was = applied.dispatchOf(diff.service);
    const differs = (Object.keys(dispatchChanged) as (keyof ServiceDispatch)[]).filter((key) => now[key] !== was[key]);
    for (const key of differs) dispatchChanged[key] = true;
    if (differs.length > 0) dispatch.set(diff.service, now);
    for (const r of after) for (const ip of r.endpointIPs) if (!applied.hasHairpin(ip)) hairpin.add(ip);
  }
  const change: AppliedChange = { dispatch, hairpin: [...hairpin] };
  const rewrite = (key: keyof ServiceDispatch): string[] => (dispatchChanged[key] ? [...applied.linesAfter(change, key)] : []);
  const rules = { services: rewrite('services'), nodePorts: rewrite('nodePorts'), verdicts: rewrite('verdicts'), entry: dispatchChanged.services ? nodePortsEntryLines(config) : [], hairpin: renderHairpin(change.hairpin).map(formatRule) };
  const nat = {
    declare: [...(dispatchChanged.services ? [SERVICES_CHAIN] : []), ...(dispatchChanged.nodePorts ? [NODEPORTS_CHAIN] : []), ...declare, ...stale],
    lines: [...rules.services, ...rules.entry, ...rules.nodePorts, ...rules.hairpin, ...lines],
    delete: stale,
  };
  const filter = { declare: dispatchChanged.verdicts ? [SERVICES_CHAIN] : [], lines: rules.verdicts, delete: [] };
  const payload = [filter.declare.length > 0 ? tableText('filter', filter) : '', nat.declare.length + nat.lines.length > 0 ? tableText('nat', nat) : ''].join('');
  // Dispatch texts hold one Service's lines each: count the lines, not the texts.
  const count = (texts: readonly string[]) => texts.reduce((n, t) => n + t.split('\n').length, 0);
  const written = { filter: count(rules.verdicts), nat: count(rules.services) + rules.entry.length + count(rules.nodePorts) + rules.hairpin.length + ownRules };
  return { payload, change, written };
}
