import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { readBoundedFile } from '../../lib/files.ts';
import { dirname } from 'node:path';
import { formatIpv4Cidr, formatIpv4, parseIpv4Cidr, type Ipv4Cidr } from '../../lib/ip.ts';

// /run/weft/subnet.env: what weftd tells the CNI plugin, in flannel's variable names.

export interface SubnetEnv {
  network: Ipv4Cidr;
  subnet: Ipv4Cidr;
  mtu: number;
  ipMasq: boolean;
}

export function renderSubnetFile(env: SubnetEnv): string {
  return [
    `FLANNEL_NETWORK=${formatIpv4Cidr(env.network)}`,
    // flannel writes the subnet's first address: the bridge's gateway address with the subnet's length.
    `FLANNEL_SUBNET=${formatIpv4(env.subnet.network + 1)}/${env.subnet.prefix}`,
    `FLANNEL_MTU=${env.mtu}`,
    `FLANNEL_IPMASQ=${env.ipMasq}`,
    '',
  ].join('\n');
}

/** Parses a subnet file; throws naming the variable that is missing or malformed. */
export function parseSubnetFile(text: string): SubnetEnv {
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !line.startsWith('#')) vars.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const need = (name: string): string => {
    const value = vars.get(name);
    if (value === undefined || value === '') throw new Error(`cannot parse subnet file: "${name}" is missing`);
    return value;
  };
  const network = parseIpv4Cidr(need('FLANNEL_NETWORK'), { strict: true });
  if (!network) throw new Error(`cannot parse subnet file: "FLANNEL_NETWORK" is not a network: "${need('FLANNEL_NETWORK')}"`);
  const subnet = parseIpv4Cidr(need('FLANNEL_SUBNET'));
  if (!subnet) throw new Error(`cannot parse subnet file: "FLANNEL_SUBNET" is not a CIDR: "${need('FLANNEL_SUBNET')}"`);
  const mtu = Number(need('FLANNEL_MTU'));
  if (!Number.isInteger(mtu) || mtu < 576) throw new Error(`cannot parse subnet file: "FLANNEL_MTU" is not a usable MTU: "${need('FLANNEL_MTU')}"`);
  return { network, subnet, mtu, ipMasq: vars.get('FLANNEL_IPMASQ') === 'true' };
}

/** Writes the file so a reader sees the old or the new content, never a part: temp file (0600) then rename. */
export function writeSubnetFile(path: string, env: SubnetEnv): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, renderSubnetFile(env), { mode: 0o600 });
  renameSync(temp, path);
}

/** Reads the subnet file: a regular file of at most 64 KiB (it holds four lines). */
export function readSubnetFile(path: string): SubnetEnv {
  return parseSubnetFile(readBoundedFile(path, { maxBytes: 64 * 1024 }));
}
