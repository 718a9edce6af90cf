import { parseIpv4 } from '../../lib/ip.ts';
import { needsKubernetes, resolveTarget, type Lookup, type Resolved } from '../kube/resolve-target.ts';
import { parseTarget } from '../model/target.ts';
import type { Explanation } from '../model/explanation.ts';
import { explainPacket } from '../path/explain.ts';
import { NodeView } from '../path/node-view.ts';
import { renderExplanation } from '../path/render-explanation.ts';
import type { NodeState } from '../state/node-state.ts';
import { booleanFlag, parseFlags, stringFlag, UsageError, type ParsedArgs } from './args.ts';
import { readWeftNode } from './node-check.ts';

// `weft explain --from SRC --to DST[:PORT][/tcp|udp]`: reads this node's live state and prints the
// packet's path hop by hop with the evidence for each, and the first thing that breaks it. Exit 0
// when every way the packet may go gets through (delivered here, or handed on to the next node), 1
// when some way is dropped or rejected, 2 when the question cannot be answered (bad input, no weft).

const EXPLAIN_USAGE = `usage: weft explain --from SRC --to DST[:PORT][/tcp|udp] [--json] [--probe]
         [--in DEV] [--size BYTES] [--kubeconfig FILE]
         [--subnet-file FILE] [--cni-conf-dir DIR] [--cni-bin-dir DIR]
  SRC, DST: IPv4 addresses, or with a kubeconfig pod/NAMESPACE/NAME, svc/NAMESPACE/NAME[:PORT], node/NAME.
  --in DEV      the interface the packet arrives on (to explain the next node of a path)
  --size BYTES  the IP packet size to check against each MTU (default: the source interface's MTU)
  --probe       also send one real packet and compare the kernel's trace with the prediction
  Reads only; the only change is --probe's temporary trace table, removed afterwards.
`;

const FLAGS = {
  from: 'string', to: 'string', json: 'boolean', probe: 'boolean', in: 'string', size: 'string', kubeconfig: 'string',
  'subnet-file': 'string', 'cni-conf-dir': 'string', 'cni-bin-dir': 'string', help: 'boolean',
} as const;

interface ExplainArgs {
  readonly from: Resolved;
  readonly to: Resolved;
  readonly json: boolean;
  readonly probe: boolean;
  readonly in?: string;
  readonly size?: number;
}

function required(args: ParsedArgs, name: string): string {
  const value = stringFlag(args, name);
  if (value === undefined) throw new UsageError(`flag "--${name}" is required`);
  return value;
}

async function lookupFor(args: ParsedArgs): Promise<Lookup> {
  const { apiLookup } = await import('../kube/api-lookup.ts');
  return apiLookup(stringFlag(args, 'kubeconfig'));
}

async function parseExplainArgs(args: ParsedArgs, lookup: () => Promise<Lookup>): Promise<ExplainArgs> {
  const from = parseTarget(required(args, 'from'), 'from');
  const to = parseTarget(required(args, 'to'), 'to');
  const sizeText = stringFlag(args, 'size');
  const size = sizeText === undefined ? undefined : Number(sizeText);
  if (size !== undefined && (!/^\d+$/.test(sizeText ?? '') || size < 68 || size > 65_535)) throw new UsageError(`flag "--size" must be 68 to 65535 bytes, got "${sizeText}"`);
  const iif = stringFlag(args, 'in');
  if (iif !== undefined && !/^[^/\s:]{1,15}$/.test(iif)) throw new UsageError(`flag "--in" is not an interface name: "${iif}"`);
  const find = needsKubernetes(from, to) ? await lookup() : undefined;
  const resolve = (t: typeof from) => resolveTarget(t, find ?? (() => Promise.reject(new UsageError('no lookup'))));
  const [src, dst] = [await resolve(from), await resolve(to)];
  if (parseIpv4(src.ip) === undefined || parseIpv4(dst.ip) === undefined) throw new UsageError('only IPv4 addresses can be explained');
  return { from: src, to: dst, json: booleanFlag(args, 'json'), probe: booleanFlag(args, 'probe'), ...(iif ? { in: iif } : {}), ...(size !== undefined ? { size } : {}) };
}

export function explainOn(state: NodeState, request: ExplainArgs): Explanation {
  const view = new NodeView(state);
  if (request.in !== undefined && !view.link(request.in)) throw new UsageError(`flag "--in": "${request.in}" is not an interface of this node`);
  return explainPacket(view, {
    src: request.from.ip,
    dst: request.to.ip,
    ...(request.to.port !== undefined ? { dport: request.to.port } : {}),
    proto: request.to.proto ?? 'tcp',
    ...(request.size !== undefined ? { size: request.size } : {}),
    ...(request.in !== undefined ? { in: request.in } : {}),
  });
}

export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseFlags(argv, FLAGS);
    if (booleanFlag(args, 'help')) {
      process.stdout.write(EXPLAIN_USAGE);
      return 0;
    }
    const request = await parseExplainArgs(args, () => lookupFor(args));
    const state = await readWeftNode(args, 'explain on');
    const explanation = explainOn(state, request);
    let probe: unknown;
    if (request.probe) {
      const { probePath } = await import('../probe/run-probe.ts');
      probe = await probePath(state, explanation);
    }
    if (request.json) process.stdout.write(`${JSON.stringify(probe ? { ...explanation, probe } : explanation, null, 2)}\n`);
    else {
      const header = `weft explain: ${request.from.label} -> ${request.to.label}\n`;
      process.stdout.write(header + renderExplanation(explanation));
      if (probe) {
        const { renderProbe } = await import('../probe/render-probe.ts');
        process.stdout.write(renderProbe(probe as never));
      }
    }
    return explanation.verdict.kind === 'delivered' ? 0 : 1;
  } catch (error) {
    process.stderr.write(`weft explain: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
}
