import { accessSync, constants, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Allocation } from '../../plugins/host-local/allocation.ts';
import { openFileStore } from '../../plugins/host-local/store.ts';
import { parseSubnetFile, type SubnetEnv } from '../../plugins/vxlan/subnet-file.ts';
import { parseWeftdArgs, type WeftdArgs } from '../../plugins/vxlan/weftd-args.ts';
import { findDaemons } from './daemon-process.ts';
import { ipamStores, parseConfList, pickConfFile, requiredPlugins, subnetFileOf, type ConfList, type IpamStore } from './cni-conflist.ts';
import { findLink, type KernelState } from './kernel-state.ts';
import { readLeases, type LeaseView } from './leases.ts';

// weft's own state on this node: the daemons serving this namespace and their flags, the subnet
// file, the CNI config and the plugins it names, host-local's allocations, and every node's lease.
// Read only; a part that cannot be read is reported in its `error`, never thrown.

export interface WeftPaths {
  /** Overrides weftd's --subnet-file (and the CNI config's subnetFile). */
  readonly subnetFile?: string;
  readonly cniConfDir: string;
  readonly cniBinDir: string;
}

export const DEFAULT_PATHS: WeftPaths = { cniConfDir: '/etc/cni/net.d', cniBinDir: '/opt/cni/bin' };
const DEFAULT_SUBNET_FILE = '/run/weft/subnet.env';

export interface PluginFile {
  readonly name: string;
  readonly present: boolean;
  readonly executable: boolean;
}

export interface WeftState {
  readonly weftd?: { readonly pid: number; readonly args?: WeftdArgs; readonly error?: string };
  readonly proxy?: { readonly pid: number; readonly args: readonly string[] };
  readonly subnetFile: { readonly path: string; readonly env?: SubnetEnv; readonly error?: string };
  readonly cni: { readonly dir: string; readonly binDir: string; readonly list?: ConfList; readonly plugins: readonly PluginFile[]; readonly error?: string };
  readonly allocations: readonly { readonly store: IpamStore; readonly entries: readonly Allocation[]; readonly error?: string }[];
  readonly leases?: LeaseView;
  /** The address this node's lease carries: weftd's --public-ip, or its uplink's address. */
  readonly publicIp?: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function readWeftd(): WeftState['weftd'] {
  const [process] = findDaemons('weftd');
  if (!process) return undefined;
  try {
    return { pid: process.pid, args: parseWeftdArgs(process.args, { env: process.env }) };
  } catch (error) {
    return { pid: process.pid, error: message(error) };
  }
}

function readCni(paths: WeftPaths): WeftState['cni'] {
  const base = { dir: paths.cniConfDir, binDir: paths.cniBinDir, plugins: [] };
  let file: string | undefined;
  try {
    file = pickConfFile(readdirSync(paths.cniConfDir));
  } catch (error) {
    return { ...base, error: `cannot list "${paths.cniConfDir}": ${(error as NodeJS.ErrnoException).code ?? message(error)}` };
  }
  if (!file) return { ...base, error: `no CNI config in "${paths.cniConfDir}" (.conf, .conflist or .json)` };
  try {
    const list = parseConfList(readFileSync(join(paths.cniConfDir, file), 'utf8'), join(paths.cniConfDir, file));
    const plugins = requiredPlugins(list).map((name): PluginFile => {
      const path = join(paths.cniBinDir, name);
      const present = statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
      let executable = false;
      try {
        accessSync(path, constants.X_OK);
        executable = present;
      } catch {
        executable = false;
      }
      return { name, present, executable };
    });
    return { ...base, list, plugins };
  } catch (error) {
    return { ...base, error: message(error) };
  }
}

function readAllocations(list: ConfList | undefined): WeftState['allocations'] {
  let stores: IpamStore[] = [];
  try {
    stores = list ? ipamStores(list) : [];
  } catch {
    stores = [];
  }
  return stores.map((store) => {
    try {
      return { store, entries: openFileStore(store.dataDir, store.network).list() };
    } catch (error) {
      return { store, entries: [], error: message(error) };
    }
  });
}

function readSubnet(path: string): WeftState['subnetFile'] {
  try {
    return { path, env: parseSubnetFile(readFileSync(path, 'utf8')) };
  } catch (error) {
    return { path, error: (error as NodeJS.ErrnoException).code === 'ENOENT' ? `"${path}" does not exist` : message(error) };
  }
}

export async function readWeftState(kernel: KernelState, paths: WeftPaths, options: { leases: boolean }): Promise<WeftState> {
  const weftd = readWeftd();
  const [proxy] = findDaemons('weft-proxy');
  const cni = readCni(paths);
  let fromList: string | undefined;
  try {
    fromList = cni.list ? subnetFileOf(cni.list) : undefined;
  } catch {
    fromList = undefined;
  }
  const subnetPath = paths.subnetFile ?? weftd?.args?.subnetFile ?? fromList ?? DEFAULT_SUBNET_FILE;
  const vxlan = kernel.links.find((l) => l.kind === 'vxlan' && l.name.startsWith('weft.'));
  const publicIp = weftd?.args?.publicIp ?? (weftd?.args?.iface ? findLink(kernel, weftd.args.iface)?.addresses[0]?.ip : undefined) ?? vxlan?.vxlan?.local;
  const leases = options.leases && weftd?.args ? await readLeases(weftd.args, publicIp) : undefined;
  return {
    ...(weftd ? { weftd } : {}),
    ...(proxy ? { proxy: { pid: proxy.pid, args: proxy.args } } : {}),
    subnetFile: readSubnet(subnetPath),
    cni,
    allocations: readAllocations(cni.list),
    ...(leases ? { leases } : {}),
    ...(publicIp ? { publicIp } : {}),
  };
}
