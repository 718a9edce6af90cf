// IPv4/IPv6 addresses as bigints. Own helpers rather than ip-num: importing ip-num costs a plugin call
// more than its own work (docs/PERFORMANCE.md), and we need only parse, format and mask math.

export type Family = 4 | 6;

export interface IP {
  readonly family: Family;
  readonly value: bigint;
}

export interface Cidr {
  /** The address as written (host bits may be set). */
  readonly ip: IP;
  readonly prefix: number;
}

export function familyBits(family: Family): number {
  return family === 4 ? 32 : 128;
}

/** The IPv4 address as an unsigned 32-bit number; undefined when text is not one (octets in decimal,
 * no leading zeros). The tree's one IPv4 parser, a character scan on numbers because the proxy checks
 * every endpoint address with it: split, regexes and bigints cost far more than Node's isIPv4. */
export function parseIpv4(text: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || ++dots > 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && octet === 0) return undefined;
      octet = octet * 10 + (c - 0x30);
      digits++;
      if (octet > 255) return undefined;
    } else {
      return undefined;
    }
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : undefined;
}

const V6_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseV6Groups(text: string): number[] | undefined {
  if (text === '') return [];
  const groups: number[] = [];
  const parts = text.split(':');
  for (const [i, part] of parts.entries()) {
    // An embedded IPv4 address may close the address (::ffff:10.0.0.1).
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === undefined) return undefined;
      groups.push(v4 >>> 16, v4 & 0xffff);
    } else if (V6_GROUP.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

function parseV6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseV6Groups(halves[0]!);
  const tail = halves.length === 2 ? parseV6Groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Parses a plain address (no prefix, no zone); undefined when it is not one. */
export function parseIp(text: string): IP | undefined {
  if (text.includes(':')) {
    const value = parseV6(text);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseIpv4(text);
  return value === undefined ? undefined : ipFromIpv4(value);
}

/** Parses "address/prefix"; undefined when it is not one, or with strict when host bits are set. */
export function parseCidr(text: string, options: { strict?: boolean } = {}): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!ip || !/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > familyBits(ip.family)) return undefined;
  const cidr = { ip, prefix };
  return options.strict && !sameIp(networkAddress(cidr), ip) ? undefined : cidr;
}

function formatV6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952 (and Go's net.IP.String, which names the reference plugin's files): the first longest run
  // of two or more zero groups becomes "::".
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

export function formatIp(ip: IP): string {
  if (ip.family === 6) return formatV6(ip.value);
  return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 0xffn)).join('.');
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.ip)}/${cidr.prefix}`;
}

export function sameIp(a: IP, b: IP): boolean {
  return a.family === b.family && a.value === b.value;
}

/** Negative, zero or positive as a sorts before, with or after b (IPv4 before IPv6). */
export function compareIps(a: IP, b: IP): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

function hostMask(cidr: Cidr): bigint {
  return (1n << BigInt(familyBits(cidr.ip.family) - cidr.prefix)) - 1n;
}

/** The subnet's first address (host bits cleared). */
export function networkAddress(cidr: Cidr): IP {
  return { family: cidr.ip.family, value: cidr.ip.value & ~hostMask(cidr) };
}

/** The subnet's last address (host bits set): IPv4's broadcast. */
export function lastAddress(cidr: Cidr): IP {
  return { family: cidr.ip.family, value: cidr.ip.value | hostMask(cidr) };
}

export function cidrContains(cidr: Cidr, ip: IP): boolean {
  return ip.family === cidr.ip.family && (ip.value & ~hostMask(cidr)) === networkAddress(cidr).value;
}

/** The address `delta` after ip (may leave the family's space; callers bound it by a range). */
export function offsetIp(ip: IP, delta: bigint): IP {
  return { family: ip.family, value: ip.value + delta };
}

// The overlay (IPv4 only, as flannel's vxlan backend is) searches for free subnets by stepping and
// aligning addresses, which reads best on plain numbers. These views share the parser above but
// format and compare in number arithmetic: every weftd formats and matches every lease at every lease
// event, and bigints there cost more than everything else the event does.

/** An IPv4 subnet as numbers: network is the first address, host bits cleared. */
export interface Ipv4Cidr {
  readonly network: number;
  readonly prefix: number;
}

/** The IPv4 number view as the family-generic address. */
export function ipFromIpv4(value: number): IP {
  return { family: 4, value: BigInt(value) };
}

export function cidrFromIpv4(cidr: Ipv4Cidr): Cidr {
  return { ip: ipFromIpv4(cidr.network), prefix: cidr.prefix };
}

export function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/** Parses "a.b.c.d/n" to its subnet (host bits cleared); with strict, host bits must be zero. */
export function parseIpv4Cidr(text: string, options: { strict?: boolean } = {}): Ipv4Cidr | undefined {
  const cidr = parseCidr(text, options);
  if (cidr?.ip.family !== 4) return undefined;
  return { network: Number(networkAddress(cidr).value), prefix: cidr.prefix };
}

export function formatIpv4Cidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefix}`;
}

/** The mask of an IPv4 prefix length as an unsigned number (a /0 masks nothing). */
function ipv4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function ipv4CidrContains(cidr: Ipv4Cidr, address: number): boolean {
  const mask = ipv4Mask(cidr.prefix);
  return ((address & mask) >>> 0) === ((cidr.network & mask) >>> 0);
}

/** The number of addresses in an IPv4 block, as a float: a /0 holds 2^32. */
export function ipv4CidrSize(prefix: number): number {
  return 2 ** (32 - prefix);
}
