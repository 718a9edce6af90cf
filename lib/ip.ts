// IPv4/IPv6 addresses as bigints. Own helpers rather than ip-num: importing ip-num costs ~25 ms of
// Node 26 start-up (measured), most of a plugin call's budget, and we need only parse, format and mask math.

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

const V4_OCTET = /^(0|[1-9][0-9]{0,2})$/;

function parseV4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!V4_OCTET.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

const V6_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseV6Groups(text: string): number[] | undefined {
  if (text === '') return [];
  const groups: number[] = [];
  const parts = text.split(':');
  for (const [i, part] of parts.entries()) {
    // An embedded IPv4 address may close the address (::ffff:10.0.0.1).
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseV4(part);
      if (v4 === undefined) return undefined;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
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
  const value = parseV4(text);
  return value === undefined ? undefined : { family: 4, value };
}

/** Parses "address/prefix"; undefined when it is not one. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!ip || !/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix <= familyBits(ip.family) ? { ip, prefix } : undefined;
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
