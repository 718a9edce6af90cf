import { parseArgs } from 'node:util';

// The overlay demo's command line: npm run demo:overlay -- [--nodes N] [--pods N] [--keep].

export interface DemoArgs {
  nodes: number;
  podsPerNode: number;
  keep: boolean;
  help: boolean;
}

export const DEMO_USAGE = `usage: npm run demo:overlay -- [--nodes N] [--pods N] [--keep]
  --nodes N   node namespaces, each running weftd (2..20, default 3)
  --pods N    pods per node, attached through weft-vxlan (1..20, default 2)
  --keep      leave the cluster running until Ctrl-C, printing how to inspect it
`;

function bounded(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new Error(`cannot parse arguments: "--${flag}" must be a whole number from ${min} to ${max}, got "${text}"`);
  return n;
}

export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: { nodes: { type: 'string', default: '3' }, pods: { type: 'string', default: '2' }, keep: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  // Two nodes at least: the demo's point is traffic between nodes.
  return { nodes: bounded('nodes', values.nodes, 2, 20), podsPerNode: bounded('pods', values.pods, 1, 20), keep: values.keep, help: values.help };
}
