// MAC addresses: the canonical text form (lower-case, colon-separated) and addresses derived from a hash.

const MAC_ADDRESS = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** True for a lower-case, colon-separated 48-bit MAC ("0a:00:00:00:00:01"). */
export function isMacAddress(value: string): boolean {
  return MAC_ADDRESS.test(value);
}

/** The first 6 bytes of a digest as a MAC; locally administered unicast, so it never clashes with a vendor's address. */
export function localMacFromDigest(digest: Uint8Array): string {
  const octets = [...digest.subarray(0, 6)];
  // Bit 1 set: locally administered; bit 0 clear: unicast.
  octets[0] = (octets[0]! & 0xfc) | 0x02;
  return formatMac(Uint8Array.from(octets));
}

/** Six bytes as "aa:bb:cc:dd:ee:ff". */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** "aa:bb:cc:dd:ee:ff" as six bytes; the text must be a MAC (isMacAddress). */
export function macBytes(mac: string): Uint8Array {
  return Uint8Array.from(mac.split(':'), (octet) => parseInt(octet, 16));
}
