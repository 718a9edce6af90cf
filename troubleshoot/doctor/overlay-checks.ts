import { formatIpv4, formatIpv4Cidr, parseIpv4Cidr, type Ipv4Cidr } from '../../lib/ip.ts';
import { deviceName, fabricCommandLine, planPeers, type FabricSpec, type Peer, type Uplink } from '../../weftd/fabric/fabric-plan.ts';
import { planStalePrune, type KernelFabric } from '../../weftd/fabric/fabric-prune.ts';
import { leaseId, type Lease } from '../../weftd/subnet/lease.ts';
import { VXLAN_OVERHEAD } from '../../weftd/fabric/vxlan-device.ts';
import type { KernelState, LinkState } from '../state/kernel-state.ts';
import type { NodeState } from '../state/node-state.ts';
import { check, type CheckResult } from './check.ts';

// Checks of the overlay against the leases: weftd runs, the VXLAN device is as weftd makes it, every
// other node's lease has its route, neighbour and FDB entry (and nothing stale is left), the subnet
// file agrees with this node's lease, and the lease's renewals keep up.

const SAME_SUBNET = (a: Ipv4Cidr, b: Ipv4Cidr) => a.network === b.network && a.prefix === b.prefix;

function ownLease(state: NodeState): Lease | undefined {
  return state.weft.leases?.leases.find((l) => l.publicIp === state.weft.publicIp);
}

function uplinkOf(kernel: KernelState, address: string | undefined): (Uplink & { link: LinkState }) | undefined {
  for (const link of kernel.links) {
    const a = link.addresses.find((x) => x.ip === address);
    const subnet = a ? parseIpv4Cidr(`${a.ip}/${a.prefix}`) : undefined;
    if (a && subnet) return { name: link.name, address: a.ip, subnet, mtu: link.mtu, link };
  }
  return undefined;
}

/** The VXLAN device's MTU as weftd sets it: Backend.MTU, else the uplink's MTU minus the VXLAN overhead. */
function wantedMtu(state: NodeState, uplink: { mtu: number } | undefined): number | undefined {
  return state.weft.leases?.network?.backend.mtu || (uplink ? uplink.mtu - VXLAN_OVERHEAD : undefined);
}

export function checkWeftd(state: NodeState): CheckResult {
  const weftd = state.weft.weftd;
  if (!weftd) return check('weftd', 'error', 'weftd does not run in this network namespace: nothing keeps the fabric and the subnet file up to date', { fix: 'start weftd (on Kubernetes: the weft-node DaemonSet Pod on this node)' });
  if (weftd.error) return check('weftd', 'error', `weftd (pid ${weftd.pid}) runs with flags it cannot use: ${weftd.error}`, { fix: 'correct weftd\'s flags' });
  const manager = weftd.args?.subnetManager;
  const from = manager?.kind === 'etcd' ? `leases in etcd ${manager.endpoints.join(',')}` : `leases from Node "${manager?.kind === 'kube' ? manager.nodeName : '?'}"`;
  return check('weftd', 'ok', `weftd runs (pid ${weftd.pid}), ${from}`, { evidence: [`subnet file ${weftd.args?.subnetFile}`] });
}

export function checkVxlanDevice(state: NodeState): CheckResult {
  const { kernel, weft } = state;
  const network = weft.leases?.network;
  const vni = network?.backend.vni ?? 1;
  const name = deviceName(vni);
  const dev = kernel.links.find((l) => l.name === name);
  const own = ownLease(state);
  if (!dev) return check('vxlan-device', 'error', `the VXLAN device ${name} does not exist`, { fix: 'restart weftd, which creates it' });
  const uplink = uplinkOf(kernel, weft.publicIp ?? dev.vxlan?.local);
  const mtu = wantedMtu(state, uplink);
  const wrong: string[] = [];
  if (dev.kind !== 'vxlan') wrong.push(`it is a "${dev.kind}" device`);
  if (dev.vxlan?.vni !== vni) wrong.push(`VNI ${dev.vxlan?.vni}, wanted ${vni}`);
  if (network && dev.vxlan?.port !== network.backend.port) wrong.push(`port ${dev.vxlan?.port}, wanted ${network.backend.port}`);
  if (weft.publicIp && dev.vxlan?.local !== weft.publicIp) wrong.push(`local address ${dev.vxlan?.local}, wanted ${weft.publicIp}`);
  if (dev.vxlan?.learning !== false) wrong.push('it learns addresses (wanted nolearning)');
  if (mtu !== undefined && dev.mtu !== mtu) wrong.push(`MTU ${dev.mtu}, wanted ${mtu}${network?.backend.mtu ? ' (Backend.MTU)' : ` (${uplink?.name} MTU ${uplink?.mtu} - ${VXLAN_OVERHEAD})`}`);
  if (!dev.up) wrong.push('it is down');
  if (own && !dev.addresses.some((a) => a.ip === formatIpv4(own.subnet.network) && a.prefix === 32)) wrong.push(`it lacks the address ${formatIpv4(own.subnet.network)}/32`);
  const evidence = [`${name}: VNI ${dev.vxlan?.vni}, port ${dev.vxlan?.port}, local ${dev.vxlan?.local}, learning ${dev.vxlan?.learning}, MTU ${dev.mtu}, ${dev.up ? 'up' : 'down'}, addresses ${dev.addresses.map((a) => `${a.ip}/${a.prefix}`).join(' ') || 'none'}`];
  if (uplink) evidence.push(`uplink ${uplink.name} (${uplink.address}) MTU ${uplink.mtu}`);
  if (wrong.length === 0) return check('vxlan-device', 'ok', `${name} is as weftd makes it`, { evidence });
  const fix = wrong.some((w) => w.startsWith('MTU')) && wrong.length === 1 ? `ip link set ${name} mtu ${mtu} (or restart weftd)` : 'restart weftd, which corrects or recreates the device';
  return check('vxlan-device', 'error', `${name}: ${wrong.join('; ')}`, { evidence, fix });
}

function kernelFabric(kernel: KernelState, dev: string, uplink: string): KernelFabric {
  return {
    routes: kernel.routes.filter((r) => r.table === 'main' && (r.dev === dev || r.dev === uplink) && r.type === 'unicast').map((r) => ({ dst: r.dst, ...(r.dev ? { dev: r.dev } : {}), ...(r.gateway ? { gateway: r.gateway } : {}) })),
    neighbours: kernel.neighbours.filter((n) => n.dev === dev).map((n) => ({ dst: n.ip, ...(n.mac ? { lladdr: n.mac } : {}) })),
    fdb: kernel.fdb.filter((f) => f.dev === dev).map((f) => ({ mac: f.mac, ...(f.dst ? { dst: f.dst } : {}) })),
  };
}

/** What one wanted peer lacks in the kernel. */
function peerProblems(kernel: KernelState, dev: string, uplink: string, peer: Peer): string[] {
  const subnet = formatIpv4Cidr(peer.subnet);
  const gateway = peer.direct ? peer.publicIp : formatIpv4(peer.subnet.network);
  const problems: string[] = [];
  const route = kernel.routes.find((r) => r.table === 'main' && r.dst === subnet);
  if (!route || route.gateway !== gateway || route.dev !== (peer.direct ? uplink : dev)) problems.push(`route ${subnet} ${route ? `is "via ${route.gateway} dev ${route.dev}"` : 'missing'}`);
  if (peer.direct) return problems;
  const neighbour = kernel.neighbours.find((n) => n.dev === dev && n.ip === gateway);
  if (!neighbour?.mac) problems.push(`neighbour ${gateway} missing`);
  else if (neighbour.mac.toLowerCase() !== peer.vtepMac) problems.push(`neighbour ${gateway} is ${neighbour.mac}, wanted ${peer.vtepMac}`);
  const fdb = kernel.fdb.find((f) => f.dev === dev && f.mac === peer.vtepMac && f.dst);
  if (!fdb) problems.push(`FDB entry ${peer.vtepMac} -> ${peer.publicIp} missing`);
  else if (fdb.dst !== peer.publicIp) problems.push(`FDB entry ${peer.vtepMac} -> ${fdb.dst}, wanted ${peer.publicIp}`);
  return problems;
}

export function checkPeers(state: NodeState): CheckResult {
  const { kernel, weft } = state;
  const leases = weft.leases;
  if (!leases || leases.error) return check('peers', 'warn', `cannot read the leases${leases?.error ? `: ${leases.error}` : ' (weftd not found)'}`, { fix: 'make sure weftd runs and its lease store (etcd or the API server) answers' });
  const own = ownLease(state);
  const vni = leases.network?.backend.vni ?? 1;
  const dev = deviceName(vni);
  const uplink = uplinkOf(kernel, weft.publicIp);
  if (!own || !uplink || !leases.network) return check('peers', 'error', `this node (${weft.publicIp ?? 'address unknown'}) holds no lease`, { evidence: [`${leases.leases.length} lease(s): ${leases.leases.map(leaseId).join(', ')}`], fix: 'check weftd\'s log: it leases a subnet at start' });
  const spec: FabricSpec = { device: dev, uplink, directRouting: leases.network.backend.directRouting, vni, own: own.subnet };
  const wanted = planPeers(spec, leases.leases);
  const missing = [...wanted.values()].flatMap((peer) => peerProblems(kernel, dev, uplink.name, peer).map((p) => `node ${peer.publicIp} (${formatIpv4Cidr(peer.subnet)}): ${p}`));
  const stale = planStalePrune(spec, leases.network.network, wanted, kernelFabric(kernel, dev, uplink.name));
  const leftovers = stale.remove.map(fabricCommandLine);
  const evidence = [`${wanted.size} other node(s): ${[...wanted.values()].map((p) => `${formatIpv4Cidr(p.subnet)} at ${p.publicIp}`).join(', ') || 'none'}`, ...missing, ...leftovers.map((l) => `stale: ${l}`)];
  if (missing.length > 0) return check('peers', 'error', `${missing.length} fabric entr${missing.length === 1 ? 'y is' : 'ies are'} missing or wrong`, { evidence, fix: 'restart weftd, which reprograms every peer (or add the entries the evidence names)' });
  if (leftovers.length > 0) return check('peers', 'warn', `${leftovers.length} stale fabric entr${leftovers.length === 1 ? 'y' : 'ies'} for nodes that hold no lease`, { evidence, fix: leftovers.join('; ') });
  return check('peers', 'ok', `every other node's route, neighbour and FDB entry is in place`, { evidence });
}

export function checkSubnetFile(state: NodeState): CheckResult {
  const { weft, kernel } = state;
  const file = weft.subnetFile;
  if (!file.env) return check('subnet-file', 'error', `cannot read the subnet file: ${file.error}`, { fix: 'weftd writes it once it holds a lease: check weftd' });
  const env = file.env;
  const own = ownLease(state);
  const network = weft.leases?.network;
  const mtu = wantedMtu(state, uplinkOf(kernel, weft.publicIp));
  const wrong: string[] = [];
  if (own && !SAME_SUBNET(env.subnet, own.subnet)) wrong.push(`FLANNEL_SUBNET ${formatIpv4Cidr(env.subnet)}, but this node's lease is ${formatIpv4Cidr(own.subnet)}`);
  if (network && !SAME_SUBNET(env.network, network.network)) wrong.push(`FLANNEL_NETWORK ${formatIpv4Cidr(env.network)}, but the network config says ${formatIpv4Cidr(network.network)}`);
  if (mtu !== undefined && env.mtu !== mtu) wrong.push(`FLANNEL_MTU ${env.mtu}, but the overlay's MTU is ${mtu}`);
  const podCidr = weft.leases?.node?.podCidr;
  if (podCidr && !SAME_SUBNET(env.subnet, parseIpv4Cidr(podCidr) ?? env.subnet)) wrong.push(`FLANNEL_SUBNET ${formatIpv4Cidr(env.subnet)}, but Node ${weft.leases?.node?.name} has podCIDR ${podCidr}`);
  const evidence = [`${file.path}: FLANNEL_NETWORK=${formatIpv4Cidr(env.network)} FLANNEL_SUBNET=${formatIpv4Cidr(env.subnet)} FLANNEL_MTU=${env.mtu} FLANNEL_IPMASQ=${env.ipMasq}`];
  if (wrong.length > 0) return check('subnet-file', 'error', wrong.join('; '), { evidence, fix: 'restart weftd, which rewrites the file from its lease; pods created meanwhile may need recreating' });
  return check('subnet-file', 'ok', own ? `matches this node's lease ${leaseId(own)}` : 'parses (no lease to compare with)', { evidence });
}

export function checkLeaseRenewal(state: NodeState): CheckResult {
  const leases = state.weft.leases;
  if (!leases || leases.error) return check('lease-renewal', 'skip', 'leases not readable');
  if (leases.source === 'kube') return check('lease-renewal', 'skip', 'Node leases (--kube-subnet-mgr) do not expire');
  const renewal = leases.renewal;
  if (!renewal) return check('lease-renewal', 'error', 'this node\'s lease is not attached to a live etcd lease', { fix: 'restart weftd, which leases its subnet again' });
  const intervalS = renewal.renewIntervalMs / 1000;
  const evidence = [`TTL left ${renewal.ttl} s of ${renewal.grantedTtl} s; weftd renews every ${intervalS} s`];
  // A renewal resets the TTL to the granted one: more than two intervals gone means renewals fail.
  if (renewal.ttl < 0) return check('lease-renewal', 'error', 'the lease has expired', { evidence, fix: 'restart weftd' });
  if (renewal.grantedTtl - renewal.ttl > 2 * intervalS + 60) {
    return check('lease-renewal', renewal.ttl < 2 * intervalS ? 'error' : 'warn', `renewals are late: the lease expires in ${renewal.ttl} s`, { evidence, fix: 'check weftd\'s log for renewal errors and that etcd answers' });
  }
  return check('lease-renewal', 'ok', `renewed ${renewal.grantedTtl - renewal.ttl} s ago`, { evidence });
}
