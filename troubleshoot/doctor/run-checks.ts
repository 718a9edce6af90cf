import type { NodeState } from '../state/node-state.ts';
import type { CheckResult } from './check.ts';
import { checkCniConfig, checkIpamLeaks, checkIpamPool } from './cni-checks.ts';
import { checkBridgeNetfilter, checkConntrack, checkForwarding, checkIptablesBackends, checkReversePath } from './kernel-checks.ts';
import { checkLeaseRenewal, checkPeers, checkSubnetFile, checkVxlanDevice, checkWeftd } from './overlay-checks.ts';
import { checkProxy, checkProxyRules, checkServiceEndpoints, type ProxyHealth } from './proxy-check.ts';

// Every check, in the order an operator reads them: the daemon, the kernel's settings, the overlay,
// the CNI side, the proxy, the packet filter and conntrack.

export function runChecks(state: NodeState, proxyHealth: ProxyHealth | undefined, now: number): CheckResult[] {
  return [
    checkWeftd(state),
    checkForwarding(state.kernel),
    checkBridgeNetfilter(state.kernel),
    checkReversePath(state.kernel),
    checkVxlanDevice(state),
    checkPeers(state),
    checkSubnetFile(state),
    checkLeaseRenewal(state),
    checkCniConfig(state),
    checkIpamLeaks(state),
    checkIpamPool(state),
    checkProxy(state, proxyHealth, now),
    checkProxyRules(state),
    checkServiceEndpoints(state),
    checkIptablesBackends(state),
    checkConntrack(state.kernel),
  ];
}
