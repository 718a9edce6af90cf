import { serviceChainNames } from './service-names.ts';
import type { ServicePortState } from './state.ts';

// What a Service port needs, decided once: which chains exist, where ClusterIP and external traffic
// go, and which destinations the filter table must REJECT (no endpoints at all) or DROP (a Local
// policy without local endpoints; a load balancer source not in loadBalancerSourceRanges).

export type FilterVerdict = 'REJECT' | 'DROP';

export interface ServicePlan {
  readonly sp: ServicePortState;
  readonly svc: string;
  readonly svl: string;
  readonly ext: string;
  readonly fw: string;
  /** Where ClusterIP traffic jumps; undefined when the filter table stops it. */
  readonly internalTarget?: string;
  /** Where the EXT chain sends what its policy lets through; undefined when nothing is. */
  readonly externalTarget?: string;
  readonly internalVerdict?: FilterVerdict;
  readonly externalVerdict?: FilterVerdict;
  /** NodePort, externalIPs and LB IPs lead to the EXT chain. */
  readonly usesExternalChain: boolean;
  /** LB IPs pass through the FW chain (loadBalancerSourceRanges). */
  readonly usesFirewall: boolean;
  /** The per-service chains to declare, in order. */
  readonly chains: readonly string[];
}

export function planServicePort(sp: ServicePortState): ServicePlan {
  const { SVC: svc, SVL: svl, EXT: ext, FW: fw } = serviceChainNames(sp);
  const hasEndpoints = sp.clusterEndpoints.length > 0;
  const hasLocal = sp.localEndpoints.length > 0;
  const hasExternal = sp.nodePort !== undefined || sp.externalIPs.length > 0 || sp.loadBalancerIPs.length > 0;
  const verdict = (local: boolean): FilterVerdict | undefined => (!hasEndpoints ? 'REJECT' : local && !hasLocal ? 'DROP' : undefined);
  const target = (local: boolean): string | undefined => (!hasEndpoints ? undefined : !local ? svc : hasLocal ? svl : undefined);
  const internalTarget = target(sp.internalTrafficLocal);
  const externalTarget = target(sp.externalTrafficLocal);
  const usesExternalChain = hasEndpoints && hasExternal;
  const usesFirewall = usesExternalChain && sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
  // ETP Local still sends pod and node traffic to all endpoints (short-circuit), so SVC exists then too.
  const needsSvc = internalTarget === svc || (usesExternalChain && (externalTarget === svc || sp.externalTrafficLocal));
  const needsSvl = internalTarget === svl || (usesExternalChain && externalTarget === svl);
  const chains = [needsSvc && svc, needsSvl && svl, usesExternalChain && ext, usesFirewall && fw].filter((c): c is string => typeof c === 'string');
  return {
    sp,
    svc,
    svl,
    ext,
    fw,
    ...(internalTarget ? { internalTarget } : {}),
    ...(externalTarget ? { externalTarget } : {}),
    ...(verdict(sp.internalTrafficLocal) ? { internalVerdict: verdict(sp.internalTrafficLocal) } : {}),
    ...(verdict(sp.externalTrafficLocal) ? { externalVerdict: verdict(sp.externalTrafficLocal) } : {}),
    usesExternalChain,
    usesFirewall,
    chains,
  };
}
