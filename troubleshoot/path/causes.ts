import { formatIpv4Cidr } from '../../lib/ip.ts';
import type { Lease } from '../../weftd/subnet/lease.ts';
import type { RuleHit } from '../netfilter/flow.ts';
import { isProxyRule } from '../netfilter/proxy-layout.ts';
import type { Cause } from '../model/explanation.ts';
import { sysctlName } from '../state/kernel-state.ts';

// Each way a path breaks, worded once: what is wrong, in the node's own terms, and the command that
// fixes it. The explanation's hops and the doctor's checks share these words.

export function forwardingOff(key: string): Cause {
  return {
    code: 'forwarding-off',
    message: `${sysctlName(key)} is 0: the node does not forward packets between interfaces`,
    fix: `sysctl -w ${sysctlName(key)}=1 (and keep it in /etc/sysctl.d)`,
  };
}

export function rpFilterStrict(options: { key: string; iif: string; src: string; backDev?: string }): Cause {
  const back = options.backDev ? `the route back to ${options.src} leaves through ${options.backDev}, not ${options.iif}` : `there is no route back to ${options.src}`;
  return {
    code: 'rp-filter',
    message: `strict reverse-path filtering on ${options.iif} (${sysctlName(options.key)}=1) drops it: ${back}`,
    fix: `sysctl -w ${sysctlName(`net/ipv4/conf/${options.iif}/rp_filter`)}=2 (loose)${options.key.includes('/all/') ? ' and net.ipv4.conf.all.rp_filter=2' : ''}`,
  };
}

export function noRoute(dst: string, clusterNetwork: boolean): Cause {
  return {
    code: 'no-route',
    message: `no route to ${dst}`,
    fix: clusterNetwork ? `weftd programs a route per node subnet: check "weft doctor" (peers) and weftd's log` : `add a route (or a default route) towards ${dst}`,
  };
}

export function noNeighbour(options: { ip: string; dev: string; lease?: Lease }): Cause {
  const owner = options.lease ? ` (the VTEP address of node ${options.lease.publicIp}, subnet ${formatIpv4Cidr(options.lease.subnet)})` : '';
  return {
    code: 'no-neighbour',
    message: `no neighbour entry for ${options.ip} on ${options.dev}${owner}: a VXLAN device without learning cannot resolve it, so the packet is dropped`,
    fix: options.lease
      ? `ip neigh replace ${options.ip} lladdr ${options.lease.vtepMac} dev ${options.dev} nud permanent (or restart weftd, which reprograms every peer)`
      : `restart weftd, which reprograms every peer`,
  };
}

export function noFdb(options: { mac: string; dev: string; lease?: Lease }): Cause {
  return {
    code: 'no-fdb',
    message: `no FDB entry for VTEP MAC ${options.mac} on ${options.dev}: the VXLAN device does not know which node to send it to`,
    fix: options.lease
      ? `bridge fdb append ${options.mac} dev ${options.dev} dst ${options.lease.publicIp} self permanent (or restart weftd)`
      : `restart weftd, which reprograms every peer`,
  };
}

export function staleFdb(options: { mac: string; dev: string; dst: string; lease: Lease }): Cause {
  return {
    code: 'stale-fdb',
    message: `the FDB sends VTEP MAC ${options.mac} to ${options.dst}, but the lease of ${formatIpv4Cidr(options.lease.subnet)} says node ${options.lease.publicIp}`,
    fix: `bridge fdb replace ${options.mac} dev ${options.dev} dst ${options.lease.publicIp} self permanent (or restart weftd)`,
  };
}

export function tooBig(options: { size: number; dev: string; mtu: number; wanted?: number }): Cause {
  return {
    code: 'mtu',
    message: `a ${options.size}-byte packet does not fit ${options.dev} (MTU ${options.mtu}): with DF set the node answers "fragmentation needed"; TCP may recover by path MTU discovery, UDP and ICMP with DF fail`,
    fix: options.wanted ? `ip link set ${options.dev} mtu ${options.wanted}${options.dev.startsWith('weft.') ? ' (or restart weftd)' : ''}` : `make ${options.dev}'s MTU at least the pods' MTU`,
  };
}

export function hairpinOff(port: string): Cause {
  return {
    code: 'hairpin-off',
    message: `the endpoint is the client itself: the packet must leave by the bridge port it came in on (${port}), which needs hairpin mode`,
    fix: `ip link set ${port} type bridge_slave hairpin on, and "hairpinMode": true in the CNI config's delegate`,
  };
}

export function brNetfilterOff(): Cause {
  return {
    code: 'br-netfilter-off',
    message: 'net.bridge.bridge-nf-call-iptables is 0: the endpoint answers the client directly across the bridge, bypassing conntrack, so the reply is not translated back from the Service address and the client drops it',
    fix: 'modprobe br_netfilter && sysctl -w net.bridge.bridge-nf-call-iptables=1',
  };
}

export function noPod(ip: string, bridge: string): Cause {
  return { code: 'no-pod', message: `no pod on ${bridge} holds ${ip} (no IPAM allocation, no neighbour entry)`, fix: `check that the Pod exists and is Running on this node` };
}

export function leakedAddress(ip: string, owner: string): Cause {
  return {
    code: 'leaked-address',
    message: `${ip} is still allocated to ${owner}, but no interface of that container exists: a leaked allocation (the pod is gone without a CNI DEL)`,
    fix: 'let the runtime release it (CNI DEL or GC), or remove the allocation file once the container is confirmed gone; weft doctor lists every leak',
  };
}

export function missingProxyRule(destination: string, where: string): Cause {
  return {
    code: 'missing-proxy-rule',
    message: `${destination} is a Service destination in weft-proxy's rules (${where}), but no rule translated it: a rule that sends it to its endpoints is missing`,
    fix: 'restart weft-proxy (its first sync rewrites every rule); weft doctor lists the proxy chains nothing reaches',
  };
}

export function linkDown(dev: string): Cause {
  return { code: 'link-down', message: `${dev} is down`, fix: `ip link set ${dev} up` };
}

/** The cause of a drop or reject by a rule: the proxy's "no endpoints" verdict, a stray legacy rule, or just that rule. */
export function ruleCause(hit: RuleHit, end: 'drop' | 'reject', options: { legacyRules: number; nftRules: number }): Cause {
  const where = `${hit.engine} ${hit.table} ${hit.chain}`;
  if (hit.engine === 'iptables-legacy' && options.nftRules > 0) {
    return {
      code: 'iptables-backends',
      message: `${end === 'drop' ? 'dropped' : 'rejected'} by an iptables-legacy rule (${where}: ${hit.rule}); iptables-legacy and iptables-nft both hold rules on this node, both run on every packet, and \`iptables\` shows only the nft ones`,
      fix: `inspect with iptables-legacy-save; remove the legacy rules (iptables-legacy -t ${hit.table} -D ${hit.chain} ...) and whatever still writes them`,
    };
  }
  if (isProxyRule(hit)) {
    const { service } = hit;
    if (end === 'reject') {
      const name = service ?? 'this Service';
      return {
        code: 'no-endpoints',
        message: `${service ? `Service ${service}` : 'the Service'} has no endpoints: weft-proxy rejects its address (${where}: ${hit.rule})`,
        fix: `kubectl get endpointslices -l kubernetes.io/service-name=<name> for ${name}: check the selector and the Pods' readiness`,
      };
    }
    return { code: 'service-drop', message: `weft-proxy drops it (${where}: ${hit.rule}): a Local traffic policy without local endpoints, or a source outside loadBalancerSourceRanges` };
  }
  return { code: end === 'drop' ? 'drop-rule' : 'reject-rule', message: `${end === 'drop' ? 'dropped' : 'rejected'} by ${where}: ${hit.rule}`, fix: `remove or change that rule` };
}
