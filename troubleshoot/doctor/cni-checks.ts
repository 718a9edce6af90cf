import { join } from 'node:path';
import { formatIp } from '../../lib/ip.ts';
import { parseAttachmentTag } from '../../plugins/bridge/names.ts';
import type { NodeState } from '../state/node-state.ts';
import { check, type CheckResult } from './check.ts';

// Checks of what the container runtime will use: the CNI config the runtime picks and the plugins it
// names, host-local allocations whose pod is gone (leaks: weft-bridge tags every host veth with its
// attachment, and a veth disappears with its pod's namespace), and how full the node's pool is.

const POOL_WARN = 0.9;

export function checkCniConfig(state: NodeState): CheckResult {
  const { cni } = state.weft;
  if (!cni.list) return check('cni-config', 'error', `cannot use the CNI config: ${cni.error}`, { fix: `write a valid conflist to ${cni.dir} (the weft-node DaemonSet's init container installs 10-weft.conflist)` });
  const evidence = [`${cni.list.file}: network "${cni.list.name}", cniVersion ${cni.list.cniVersion}, plugins ${cni.list.plugins.map((p) => p.type).join(', ')}`];
  const absent = cni.plugins.filter((p) => !p.present);
  const notExecutable = cni.plugins.filter((p) => p.present && !p.executable);
  for (const p of cni.plugins) evidence.push(`${join(cni.binDir, p.name)}: ${p.present ? (p.executable ? 'present, executable' : 'present, NOT executable') : 'missing'}`);
  if (absent.length > 0 || notExecutable.length > 0) {
    const wrong = [...absent.map((p) => `${p.name} is missing`), ...notExecutable.map((p) => `${p.name} is not executable`)];
    return check('cni-config', 'error', `${wrong.join(', ')} in ${cni.binDir}`, { evidence, fix: `install weft's executables in ${cni.binDir} (cp -a dist/bin/. ${cni.binDir}/), chmod 0755` });
  }
  return check('cni-config', 'ok', `${cni.list.file} parses and every plugin it names is installed`, { evidence });
}

/** The attachments (container id + interface) whose host veth exists, from weft-bridge's tags. */
function liveAttachments(state: NodeState): Set<string> {
  const live = new Set<string>();
  for (const link of state.kernel.links) {
    const tag = link.alias ? parseAttachmentTag(link.alias) : undefined;
    if (tag) live.add(`${tag.attachment.containerId}\n${tag.attachment.ifname}`);
  }
  return live;
}

export function checkIpamLeaks(state: NodeState): CheckResult {
  const stores = state.weft.allocations;
  if (stores.length === 0) return check('ipam-leaks', 'skip', 'no host-local store in the CNI config');
  const live = liveAttachments(state);
  const leaks: string[] = [];
  const evidence: string[] = [];
  for (const { store, entries, error } of stores) {
    const dir = join(store.dataDir, store.network);
    if (error) evidence.push(`${dir}: cannot read: ${error}`);
    evidence.push(`${dir}: ${entries.length} allocation(s)`);
    for (const entry of entries) {
      if (entry.owner && !live.has(`${entry.owner.containerId}\n${entry.owner.ifname}`)) leaks.push(`${formatIp(entry.ip)} (container ${entry.owner.containerId || '?'}, ${entry.owner.ifname || '?'}) in ${dir}`);
    }
  }
  const taken = stores.reduce((n, s) => n + s.entries.length, 0);
  if (taken > 0 && live.size === 0) return check('ipam-leaks', 'warn', 'cannot tell leaks apart: no host veth carries a weft-bridge attachment tag (another bridge plugin?)', { evidence });
  if (leaks.length > 0) {
    return check('ipam-leaks', 'warn', `${leaks.length} address(es) allocated to containers whose interface no longer exists`, {
      evidence: [...evidence, ...leaks.map((l) => `leaked: ${l}`)],
      fix: 'the runtime releases them with a CNI DEL (or GC); otherwise remove those allocation files once the containers are confirmed gone',
    });
  }
  return check('ipam-leaks', 'ok', `every allocation belongs to a live pod interface`, { evidence });
}

export function checkIpamPool(state: NodeState): CheckResult {
  const env = state.weft.subnetFile.env;
  const stores = state.weft.allocations;
  if (!env || stores.length === 0) return check('ipam-pool', 'skip', 'no subnet file or no host-local store');
  // host-local hands out the subnet minus the network, gateway and broadcast addresses.
  const size = 2 ** (32 - env.subnet.prefix) - 3;
  const used = stores.reduce((n, s) => n + s.entries.length, 0);
  const evidence = [`${used} of the ${size} addresses of the /${env.subnet.prefix} subnet are allocated`];
  const fix = 'free leaked addresses (see ipam-leaks), or give nodes larger subnets (SubnetLen in the network config)';
  if (used >= size) return check('ipam-pool', 'error', 'the pool is exhausted: new pods on this node get no address', { evidence, fix });
  if (used >= size * POOL_WARN) return check('ipam-pool', 'warn', `the pool is ${Math.round((100 * used) / size)}% used`, { evidence, fix });
  return check('ipam-pool', 'ok', `${used} of ${size} addresses in use`, { evidence });
}
