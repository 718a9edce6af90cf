import { flag, parseFlags } from '../../lib/flags.ts';

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

const FLAGS = {
  // Two nodes at least: the demo's point is traffic between nodes.
  nodes: flag.integer({ min: 2, max: 20 }, { fallback: 3 }),
  pods: flag.integer({ min: 1, max: 20 }, { fallback: 2 }),
  keep: flag.boolean(),
  help: flag.boolean(),
};

export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  const { values } = parseFlags(argv, FLAGS);
  return { nodes: values.nodes as number, podsPerNode: values.pods as number, keep: values.keep, help: values.help };
}
