// A Node's NetworkUnavailable condition: some clusters (cloud node controllers, kubeadm on certain
// providers) register Nodes with it True, which taints them until the network plugin says otherwise.
// flanneld sets it False ("FlannelIsUp", "Flannel is running on this node") through a strategic merge
// patch of nodes/status, which merges conditions by type; weftd does the same with its own words, once
// its fabric is programmed.

export const NETWORK_UNAVAILABLE = 'NetworkUnavailable';
export const WEFT_IS_UP = 'WeftIsUp';

export interface NodeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastHeartbeatTime?: string;
}

/** The parts of a v1.Node read here. */
export interface NodeWithConditions {
  status?: { conditions?: readonly { type?: string; status?: string; reason?: string }[] };
}

/**
 * The strategic merge patch (for nodes/status) that sets NetworkUnavailable to False, or undefined when
 * the Node already says so in weft's words (a restart writes nothing, and wakes no watcher).
 */
export function renderNetworkAvailablePatch(node: NodeWithConditions, now: Date): { status: { conditions: NodeCondition[] } } | undefined {
  const current = node.status?.conditions?.find((c) => c.type === NETWORK_UNAVAILABLE);
  if (current?.status === 'False' && current.reason === WEFT_IS_UP) return undefined;
  const time = now.toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    status: {
      conditions: [{ type: NETWORK_UNAVAILABLE, status: 'False', reason: WEFT_IS_UP, message: 'weft is running on this node', lastTransitionTime: time, lastHeartbeatTime: time }],
    },
  };
}
