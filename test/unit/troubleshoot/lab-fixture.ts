import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareIps, formatIp } from '../../../lib/ip.ts';
import { openFileStore } from '../../../plugins/host-local/store.ts';
import type { Lease } from '../../../weftd/subnet/lease.ts';
import { parseNetworkConfig } from '../../../weftd/subnet/network-config.ts';
import { parseSubnetFile } from '../../../weftd/subnet-file.ts';
import { parseConfList } from '../../../troubleshoot/state/cni-conflist.ts';
import { parseFdb, parseLinks, parseNeighbours, parseNetnsIds, parseRoutes, parseRules, type KernelState } from '../../../troubleshoot/state/kernel-state.ts';
import type { NodeState } from '../../../troubleshoot/state/node-state.ts';
import { parseRulesets } from '../../../troubleshoot/state/rulesets.ts';

// Two nodes of a namespace lab as the readers saw them (captured from the real kernel with the same
// commands: `ip -d -j addr show`, `ip -j route show table all`, `iptables-nft-save`, `nft -j list
// ruleset`, ...): node 1 with weft-proxy's rules in iptables mode, node 2 in nftables mode, two pods
// each, Services web (10.96.0.10:80, NodePort 30080, one endpoint per node) and empty (10.96.0.11:80,
// no endpoints). Sysctls are set here, as each test needs them. Node 2's nft listings carry the
// element comments weft-proxy writes for Service ports (added in nft's own format after the capture).

const DIR = join(import.meta.dirname, 'fixtures/lab');
const NETWORK_NAME = 'weft-wx';

function file(node: 1 | 2, name: string): string {
  return readFileSync(join(DIR, `n${node}-${name}`), 'utf8');
}

export const HEALTHY_SYSCTLS: ReadonlyMap<string, string> = new Map([
  ['net/ipv4/ip_forward', '1'],
  ['net/ipv4/conf/all/rp_filter', '0'],
  ['net/ipv4/conf/all/forwarding', '1'],
  ...['eth0', 'cni0', 'weft.1', 'lo'].flatMap((d): [string, string][] => [[`net/ipv4/conf/${d}/forwarding`, '1'], [`net/ipv4/conf/${d}/rp_filter`, '0']]),
  ['net/bridge/bridge-nf-call-iptables', '1'],
  ['net/netfilter/nf_conntrack_count', '12'],
  ['net/netfilter/nf_conntrack_max', '262144'],
]);

function kernelOf(node: 1 | 2): KernelState {
  return {
    links: parseLinks(file(node, 'addr.json')),
    routes: parseRoutes(file(node, 'route.json')),
    rules: parseRules(file(node, 'rule.json')),
    neighbours: parseNeighbours(file(node, 'neigh.json')),
    fdb: parseFdb(file(node, 'fdb.json')),
    sysctls: new Map(HEALTHY_SYSCTLS),
    netnsNames: parseNetnsIds(file(node, 'nsid.json')),
  };
}

/** A node's lease as weftd stored it: its subnet, its VXLAN device's local address and MAC. */
function leaseOf(node: 1 | 2): Lease {
  const vxlan = parseLinks(file(node, 'addr.json')).find((l) => l.kind === 'vxlan');
  const env = parseSubnetFile(file(node, 'subnet.env'));
  return { subnet: env.subnet, publicIp: vxlan?.vxlan?.local ?? '', vni: 1, vtepMac: vxlan?.mac ?? '' };
}

export function labNode(node: 1 | 2): NodeState {
  const kernel = kernelOf(node);
  const env = parseSubnetFile(file(node, 'subnet.env'));
  const conflist = parseConfList(readFileSync(join(DIR, `n${node}.conflist`), 'utf8'), `/etc/cni/net.d/10-weft.conflist`);
  const store = { dataDir: join(DIR, `n${node}-ipam`), network: NETWORK_NAME };
  return {
    kernel,
    rulesets: parseRulesets({ nftSave: file(node, 'iptables-nft.txt'), legacySave: file(node, 'iptables-legacy.txt'), nftJson: file(node, 'nft.json'), nftText: file(node, 'nft.txt') }),
    weft: {
      weftd: { pid: 100, args: { subnetManager: { kind: 'etcd', endpoints: ['http://172.30.91.254:2379'], prefix: '/coreos.com/network' }, iface: 'eth0', subnetFile: '/run/weft/subnet.env', ipMasq: false, healthzIp: '127.0.0.1', renewIntervalMs: 3_600_000 } },
      subnetFile: { path: '/run/weft/subnet.env', env },
      cni: { dir: '/etc/cni/net.d', binDir: '/opt/cni/bin', list: conflist, plugins: ['weft-vxlan', 'weft-bridge', 'weft-host-local'].map((name) => ({ name, present: true, executable: true })) },
      allocations: [{ store, entries: openFileStore(store.dataDir, store.network).list() }],
      leases: {
        source: 'etcd',
        network: parseNetworkConfig(JSON.stringify({ Network: '10.244.0.0/16', Backend: { Type: 'vxlan' } })),
        leases: [leaseOf(1), leaseOf(2)],
        renewal: { ttl: 86_390, grantedTtl: 86_400, renewIntervalMs: 3_600_000 },
      },
      publicIp: leaseOf(node).publicIp,
    },
  };
}

/** Pod addresses on a node: its host-local allocations, in address order. */
export function podsOf(state: NodeState): string[] {
  return state.weft.allocations.flatMap((a) => a.entries.map((e) => e.ip)).sort(compareIps).map(formatIp);
}
