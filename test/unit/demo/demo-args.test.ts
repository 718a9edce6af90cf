import { describe, expect, it } from 'vitest';
import { parseDemoArgs } from '../../../scripts/demo/args.ts';

describe('parseDemoArgs', () => {
  it('defaults to 3 nodes with 2 pods each, torn down at the end', () => {
    expect(parseDemoArgs([])).toEqual({ nodes: 3, podsPerNode: 2, keep: false, help: false });
  });

  it('takes --nodes, --pods and --keep', () => {
    expect(parseDemoArgs(['--nodes', '5', '--pods=1', '--keep'])).toEqual({ nodes: 5, podsPerNode: 1, keep: true, help: false });
  });

  it('refuses fewer than two nodes, since the demo shows traffic between nodes', () => {
    expect(() => parseDemoArgs(['--nodes', '1'])).toThrow('cannot parse "--nodes": must be a decimal integer from 2 to 20, got "1"');
  });

  it('refuses counts that are not whole numbers or are out of bounds', () => {
    for (const bad of [['--pods', '0'], ['--pods', '2.5'], ['--nodes', '21'], ['--nodes', 'x']]) expect(() => parseDemoArgs(bad), bad.join(' ')).toThrow(/cannot parse "--(pods|nodes)"/);
  });

  it('refuses unknown and repeated flags', () => {
    expect(() => parseDemoArgs(['--node', '2'])).toThrow('cannot parse "--node": unknown flag');
    expect(() => parseDemoArgs(['--nodes', '2', '--nodes', '3'])).toThrow('cannot parse "--nodes": given more than once');
  });
});
