import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../../troubleshoot/doctor/check.ts';
import { nodeOfPodIp, nodePods, parseNodes } from '../../../troubleshoot/kubectl/cluster-view.ts';
import { clusterExitCode, renderDoctorTable } from '../../../troubleshoot/kubectl/doctor-table.ts';
import { followPath, handoffArgs } from '../../../troubleshoot/kubectl/follow.ts';
import type { Explanation } from '../../../troubleshoot/model/explanation.ts';

const ok = (id: string): CheckResult => ({ id, status: 'ok', summary: 'fine', evidence: [] });

describe('what kubectl weft reads from the cluster', () => {
  it('the Running weft-node Pod of each node, the newest when a rollout leaves two', () => {
    const pods = {
      items: [
        { metadata: { name: 'weft-node-a', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } },
        { metadata: { name: 'weft-node-b', creationTimestamp: '2026-01-02T00:00:00Z' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } },
        { metadata: { name: 'weft-node-c' }, spec: { nodeName: 'n2' }, status: { phase: 'Pending' } },
      ],
    };
    expect(nodePods(pods)).toEqual(new Map([['n1', 'weft-node-b']]));
  });

  it('Nodes with their InternalIP, and the node a pod address lives on', () => {
    expect(parseNodes({ items: [{ metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: '172.30.0.1' }] } }] })).toEqual([{ name: 'n1', internalIp: '172.30.0.1' }]);
    const pods = { items: [{ spec: { nodeName: 'n1', hostNetwork: true }, status: { podIP: '172.30.0.1' } }, { spec: { nodeName: 'n2' }, status: { podIP: '10.244.2.3' } }] };
    expect(nodeOfPodIp(pods, '10.244.2.3')).toBe('n2');
    expect(nodeOfPodIp(pods, '172.30.0.1')).toBeUndefined();
  });
});

describe('kubectl weft doctor', () => {
  it('prints one table, a column per node, then each problem with its node and fix; the exit is the worst', () => {
    const reports = [
      { node: 'n1', checks: [ok('forwarding'), ok('peers')] },
      { node: 'n2', checks: [{ id: 'forwarding', status: 'error' as const, summary: 'IPv4 forwarding is off', evidence: ['net.ipv4.ip_forward=0'], fix: 'sysctl -w net.ipv4.ip_forward=1' }, ok('peers')] },
      { node: 'n3', error: 'no Running weft-node Pod on this node' },
    ];
    const table = renderDoctorTable(reports);
    expect(table.split('\n').slice(0, 3)).toEqual(['CHECK       n1      n2      n3', 'forwarding  ok      error   error', 'peers       ok      ok      error']);
    expect(table).toContain('n2 forwarding: error: IPv4 forwarding is off\n  net.ipv4.ip_forward=0\n  fix: sysctl -w net.ipv4.ip_forward=1');
    expect(table).toContain('n3: error: no Running weft-node Pod on this node');
    expect(clusterExitCode(reports)).toBe(2);
    expect(clusterExitCode([{ node: 'n1', checks: [ok('a')] }])).toBe(0);
  });
});

describe('following a path across nodes', () => {
  const leaving = {
    branches: [{ to: '10.244.2.5:80', probability: 1, hooks: [], hops: [], outcome: 'leaves', handoff: { node: '172.30.0.2', device: 'weft.1', packet: { src: '10.244.1.0', dst: '10.244.2.5', dport: 80, proto: 'tcp', size: 1450 } } }],
  } as unknown as Explanation;
  const arriving = { branches: [{ to: '10.244.2.5:80', probability: 1, hooks: [], hops: [], outcome: 'delivered' }] } as unknown as Explanation;

  it('asks the next node about the packet as it arrives there, once', async () => {
    const asked: [string, readonly string[]][] = [];
    const answers = await followPath(
      { node: 'n1', argv: ['--from', '10.244.1.3', '--to', '10.244.2.5:80/tcp'] },
      { explainOn: async (node, argv) => (asked.push([node, argv]), node === 'n1' ? leaving : arriving), nodeByAddress: (ip) => (ip === '172.30.0.2' ? 'n2' : undefined) },
    );
    expect(answers.map((a) => a.node)).toEqual(['n1', 'n2']);
    expect(asked[1]).toEqual(['n2', ['--from', '10.244.1.0', '--to', '10.244.2.5:80/tcp', '--size', '1450', '--in', 'weft.1']]);
    expect(handoffArgs(leaving.branches[0]!.handoff!)).toEqual(asked[1]![1]);
  });

  it('stops after a few nodes even when the handoffs loop', async () => {
    const answers = await followPath({ node: 'n1', argv: ['x'] }, { explainOn: async () => leaving, nodeByAddress: () => 'n1' });
    expect(answers).toHaveLength(2);
  });
});
