import { isObject } from '../../lib/json.ts';
import { isPlainName, isSafeAbsolutePath } from '../../lib/names.ts';
import { DEFAULT_DATA_DIR } from '../../plugins/host-local/config.ts';
import type { NetConf } from '../../plugins/cni/types.ts';
import { parseVxlanCniConfig } from '../../plugins/vxlan/cni-config.ts';

// The node's CNI configuration as the runtime picks it (the first file of /etc/cni/net.d by name with
// a .conf, .conflist or .json extension, as libcni orders them), the plugins it will run (weft-vxlan's
// delegate and IPAM included) and where host-local keeps its allocations.

export interface ConfList {
  readonly file: string;
  readonly name: string;
  readonly cniVersion: string;
  readonly plugins: readonly Record<string, unknown>[];
}

/** Where one host-local store keeps the allocations of a network: <dataDir>/<network>/<ip>. */
export interface IpamStore {
  readonly dataDir: string;
  readonly network: string;
}

const EXTENSIONS = ['.conf', '.conflist', '.json'];

export function pickConfFile(names: readonly string[]): string | undefined {
  return [...names].filter((n) => EXTENSIONS.some((e) => n.endsWith(e))).sort()[0];
}

function fail(file: string, why: string): never {
  throw new Error(`cannot use CNI config "${file}": ${why}`);
}

/** Parses a .conflist, or a single-plugin .conf/.json as libcni turns it into a list of one. */
export function parseConfList(text: string, file: string): ConfList {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    fail(file, `not JSON (${(error as Error).message})`);
  }
  if (!isObject(raw)) fail(file, 'not a JSON object');
  const plugins = file.endsWith('.conflist') ? raw.plugins : [raw];
  if (!Array.isArray(plugins) || plugins.length === 0) fail(file, '"plugins" is missing or empty');
  if (typeof raw.name !== 'string' || !isPlainName(raw.name)) fail(file, `"name" is not a network name: ${JSON.stringify(raw.name)}`);
  if (typeof raw.cniVersion !== 'string') fail(file, '"cniVersion" is missing');
  plugins.forEach((p, i) => {
    if (!isObject(p) || typeof p.type !== 'string' || !isPlainName(p.type)) fail(file, `plugin ${i} has no usable "type"`);
  });
  return { file, name: raw.name, cniVersion: raw.cniVersion, plugins: plugins as Record<string, unknown>[] };
}

/** The IPAM section weft-vxlan hands its delegate (the delegate's own keys over the defaults). */
function vxlanDelegate(plugin: Record<string, unknown>): { type: string; ipam: Record<string, unknown> } {
  const config = parseVxlanCniConfig(plugin as NetConf);
  const ipam = isObject(config.delegate.ipam) ? config.delegate.ipam : {};
  return { type: typeof config.delegate.type === 'string' ? config.delegate.type : 'weft-bridge', ipam: { type: 'weft-host-local', ...ipam } };
}

/** Every plugin executable the runtime will need for this list, delegates and IPAM included. */
export function requiredPlugins(list: ConfList): string[] {
  const names = new Set<string>();
  for (const plugin of list.plugins) {
    names.add(String(plugin.type));
    const parts = plugin.type === 'weft-vxlan' ? vxlanDelegate(plugin) : { type: undefined, ipam: isObject(plugin.ipam) ? plugin.ipam : {} };
    if (parts.type) names.add(parts.type);
    if (typeof parts.ipam.type === 'string') names.add(parts.ipam.type);
  }
  return [...names];
}

/** The host-local stores this list allocates from. */
export function ipamStores(list: ConfList): IpamStore[] {
  const stores: IpamStore[] = [];
  for (const plugin of list.plugins) {
    const ipam = plugin.type === 'weft-vxlan' ? vxlanDelegate(plugin).ipam : isObject(plugin.ipam) ? plugin.ipam : {};
    if (ipam.type !== 'weft-host-local' && ipam.type !== 'host-local') continue;
    const dataDir = typeof ipam.dataDir === 'string' && isSafeAbsolutePath(ipam.dataDir) ? ipam.dataDir : DEFAULT_DATA_DIR;
    stores.push({ dataDir, network: list.name });
  }
  return stores;
}

/** weft-vxlan's subnet file, when the list uses weft-vxlan. */
export function subnetFileOf(list: ConfList): string | undefined {
  const plugin = list.plugins.find((p) => p.type === 'weft-vxlan');
  return plugin ? parseVxlanCniConfig(plugin as NetConf).subnetFile : undefined;
}
