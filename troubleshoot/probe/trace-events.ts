import type { Hook } from '../netfilter/flow.ts';
import { probeChainPlace } from './probe-table.ts';

// `nft monitor trace` output, read back: one event per line ("trace id ID FAMILY TABLE CHAIN packet:
// ...", "... rule ... (verdict V)", "... policy accept"), and the path of the probe packet they show.
// The kernel may give the same packet a new trace id part-way (seen between PREROUTING and FORWARD
// here), so the probe's events are the ones carrying its IP id.

export interface TraceEvent {
  readonly id: string;
  readonly table: string;
  readonly chain: string;
  readonly kind: 'packet' | 'rule' | 'policy' | 'return';
  readonly text: string;
  readonly verdict?: string;
  /** Packet fields of a "packet:" line: iif, oif, saddr, daddr, sport, dport, ipid. */
  readonly fields?: Readonly<Record<string, string>>;
}

const LINE = /^trace id (\S+) (\S+) (\S+) (\S+) (packet: |rule |policy |return )(.*)$/;

function packetFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const take = (name: string, pattern: RegExp) => {
    const m = pattern.exec(text);
    if (m?.[1] !== undefined) fields[name] = m[1];
  };
  take('iif', /\biif "([^"]+)"/);
  take('oif', /\boif "([^"]+)"/);
  take('saddr', /\bip saddr (\S+)/);
  take('daddr', /\bip daddr (\S+)/);
  take('ipid', /\bip id (\d+)/);
  take('sport', /\b(?:tcp|udp) sport (\d+)/);
  take('dport', /\b(?:tcp|udp) dport (\d+)/);
  return fields;
}

export function parseTraceEvents(output: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  for (const line of output.split('\n')) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const [, id = '', family = '', table = '', chain = '', kind = '', rest = ''] = m;
    const verdict = /\(verdict (\S+)(?: [^)]*)?\)\s*$/.exec(rest)?.[1] ?? (kind === 'policy ' ? rest.trim().split(' ')[0] : undefined);
    const type = kind.replace(':', '').trim() as TraceEvent['kind'];
    events.push({ id, table: `${family} ${table}`, chain, kind: type, text: rest.trim(), ...(verdict ? { verdict } : {}), ...(type === 'packet' ? { fields: packetFields(rest) } : {}) });
  }
  return events;
}

/** What the kernel did with the probe packet, from its trace. */
export interface ObservedPath {
  /** Hooks the packet entered, in order, and whether it left each one. */
  readonly hooks: readonly { readonly hook: Hook; readonly passed: boolean }[];
  /** Destination after PREROUTING or OUTPUT (the endpoint a Service chose). */
  readonly to?: string;
  /** Device and source address when it left POSTROUTING. */
  readonly exit?: { readonly oif?: string; readonly src?: string };
  /** Rules that dropped or rejected it: "ip filter FORWARD: ...". */
  readonly stoppedBy?: string;
  /** The rules that acted on it (DNAT, masquerade, jumps), as the kernel printed them. */
  readonly rules: readonly string[];
}

/** The events of the probe packet: those of the trace that starts in `table`'s first chain, and every trace with its IP id. */
export function observePath(events: readonly TraceEvent[], table: string): ObservedPath | undefined {
  const start = events.find((e) => e.kind === 'packet' && e.table === `ip ${table}` && probeChainPlace(e.chain)?.end === 'first' && e.fields?.ipid);
  if (!start?.fields) return undefined;
  const ipid = start.fields.ipid;
  const ids = new Set(events.filter((e) => e.kind === 'packet' && e.fields?.ipid === ipid && e.fields.sport === start.fields?.sport).map((e) => e.id));
  const own = events.filter((e) => ids.has(e.id));
  const hooks: { hook: Hook; passed: boolean }[] = [];
  let to: string | undefined;
  let exit: ObservedPath['exit'];
  let stoppedBy: string | undefined;
  const rules: string[] = [];
  for (const event of own) {
    const place = event.table === `ip ${table}` ? probeChainPlace(event.chain) : undefined;
    if (place && event.kind === 'packet') {
      let entry = hooks[hooks.length - 1];
      if (!entry || entry.hook !== place.hook || (place.end === 'first' && entry.passed)) hooks.push((entry = { hook: place.hook, passed: false }));
      if (place.end === 'last') {
        entry.passed = true;
        const f = event.fields ?? {};
        if ((place.hook === 'prerouting' || place.hook === 'output') && f.daddr) to = `${f.daddr}${f.dport ? `:${f.dport}` : ''}`;
        if (place.hook === 'postrouting') exit = { ...(f.oif ? { oif: f.oif } : {}), ...(f.saddr ? { src: f.saddr } : {}) };
      }
      continue;
    }
    if (event.kind === 'rule' && event.table !== `ip ${table}`) {
      rules.push(`${event.table} ${event.chain}: ${event.text}`);
      if (event.verdict === 'drop' || /\breject\b/.test(event.text)) stoppedBy ??= `${event.table} ${event.chain}: ${event.text}`;
    }
    if (event.kind === 'policy' && event.verdict === 'drop' && event.table !== `ip ${table}`) stoppedBy ??= `${event.table} ${event.chain}: policy drop`;
  }
  return { hooks, ...(to ? { to } : {}), ...(exit ? { exit } : {}), ...(stoppedBy ? { stoppedBy } : {}), rules };
}
