import { describe, expect, it } from 'vitest';
import { planTopology, renderHosts, renderNodeResolvConf, workerName } from '../../../lab/kube/topology.ts';

describe('lab topology', () => {
  it('names nodes as kind names a cluster called weft, and machine resources after the lab id', () => {
    const t = planTopology({ id: 'wt-abc123-lab', workers: 2, stateDir: '/s' });
    expect(t.nodes.map((n) => n.name)).toEqual(['weft-control-plane', 'weft-worker', 'weft-worker2']);
    expect(t.nodes.map((n) => n.netns)).toEqual(['wt-abc123-lab-cp', 'wt-abc123-lab-w1', 'wt-abc123-lab-w2']);
    expect(t.nodes.map((n) => n.cgroup)).toEqual(['wt-abc123-lab-cp', 'wt-abc123-lab-w1', 'wt-abc123-lab-w2']);
    expect(t.nodes.map((n) => n.ip)).toEqual(['172.18.0.2', '172.18.0.3', '172.18.0.4']);
    expect(t.underlayNetns).toBe('wt-abc123-lab-net');
    expect(t.controlPlane.role).toBe('control-plane');
    expect(t.nodes[1]?.dir).toBe('/s/nodes/weft-worker');
  });

  it('keeps interface names within the kernel limit of 15 characters', () => {
    const t = planTopology({ id: 'abcdefghijklmnop', workers: 8, stateDir: '/s' });
    for (const node of t.nodes) expect(node.uplink.length).toBeLessThanOrEqual(15);
  });

  it('refuses ids that could escape a path or collide with interface syntax, and worker counts out of range', () => {
    for (const id of ['', '../x', 'A', 'x y', 'abcdefghijklmnopq', '-x']) expect(() => planTopology({ id, workers: 1, stateDir: '/s' })).toThrow(/cannot name the lab/);
    for (const workers of [-1, 1.5, 9]) expect(() => planTopology({ id: 'lab', workers, stateDir: '/s' })).toThrow(/--workers/);
  });

  it('allows a control plane alone', () => {
    expect(planTopology({ id: 'lab', workers: 0, stateDir: '/s' }).nodes).toHaveLength(1);
  });

  it('resolves every node by name on every node, as Docker does for kind', () => {
    const hosts = renderHosts(planTopology({ id: 'lab', workers: 1, stateDir: '/s' }));
    expect(hosts).toContain('172.18.0.2 weft-control-plane\n');
    expect(hosts).toContain('172.18.0.3 weft-worker\n');
    expect(workerName(3)).toBe('weft-worker3');
  });

  it("gives nodes a resolver without the machine's search domains", () => {
    expect(renderNodeResolvConf()).not.toMatch(/search/);
    expect(renderNodeResolvConf()).toMatch(/^nameserver 172\.18\.0\.1$/m);
  });
});
