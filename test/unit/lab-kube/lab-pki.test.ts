import { describe, expect, it } from 'vitest';
import { renderConnectScript } from '../../../lab/kube/api-forwarder.ts';
import { schedulerArgs } from '../../../lab/kube/control-plane-args.ts';
import { apiServerNames } from '../../../lab/kube/lab-pki.ts';
import { labDir, labsRoot } from '../../../lab/kube/lab-state.ts';
import { planTopology } from '../../../lab/kube/topology.ts';

const topology = planTopology({ id: 'lab', workers: 1, stateDir: '/state' });

describe('lab control plane', () => {
  it('serves the API under every name clients use: node address and name, loopback (the forwarder), the kubernetes Service', () => {
    const names = apiServerNames(topology);
    for (const name of ['172.18.0.2', 'weft-control-plane', '127.0.0.1', '10.96.0.1', 'kubernetes.default.svc.cluster.local']) expect(names).toContain(name);
  });

  it("forwards each connection from the machine's loopback into the control-plane node's namespace", () => {
    expect(renderConnectScript(topology)).toBe('#!/bin/sh\nexec nsenter --net=/var/run/netns/lab-cp -- socat STDIO TCP:172.18.0.2:6443\n');
  });

  it('runs the scheduler without a listener or leader election', () => {
    expect(schedulerArgs({ kubeconfig: '/k' })).toEqual(['--kubeconfig=/k', '--secure-port=0', '--leader-elect=false', '--profiling=false']);
  });

  it('keeps lab state under one root that an environment variable can move, and refuses ids that are paths', () => {
    expect(labsRoot({ WEFT_STATE_DIR: '/tmp/w' })).toBe('/tmp/w');
    expect(labsRoot({ XDG_STATE_HOME: '/x' })).toBe('/x/weft/labs');
    expect(labDir('weft-lab', { WEFT_STATE_DIR: '/tmp/w' })).toBe('/tmp/w/weft-lab');
    expect(() => labDir('../etc', {})).toThrow(/cannot name the lab/);
  });
});
