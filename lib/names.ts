// The name and path shapes validated at every boundary (CNI env and config, daemon flags), so a
// value that passed can be used in a file name, an `ip -batch` line, an iptables comment or a
// command without further quoting, and reads back the same from `ip -json` and `iptables-save`.

const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const IFNAMSIZ = 15;

/** CNI container IDs: the runtimes' are 64 hex digits; the bound keeps the attachment tag within 255 bytes. */
export const CONTAINER_ID_MAX = 128;
/** Network names: with a container ID and an interface name they must fit an interface alias (255 bytes). */
export const NETWORK_NAME_MAX = 64;

/** Letters, digits, "_", "." and "-", starting with a letter or digit: CNI's container IDs and network names. */
export function isPlainName(value: string): boolean {
  return PLAIN_NAME.test(value);
}

/**
 * Why an interface name cannot be used, or undefined when it can. The kernel takes 1 to 15 bytes
 * without "/", ":" or whitespace; beyond that weft refuses what other tools reinterpret: control
 * characters (`ip -json` prints them raw, which is not JSON), quotes and "#" (`ip -batch` strips
 * them, so the kernel would see another name), "\" (iptables-save escapes it) and "%" (the kernel
 * replaces "%d" with a number). Printable ASCII only, so every byte means one character.
 */
export function interfaceNameProblem(value: string): string | undefined {
  if (value === '') return 'is empty';
  if (value.length > IFNAMSIZ) return `is ${value.length} characters long; the kernel takes at most ${IFNAMSIZ}`;
  if (value === '.' || value === '..') return 'is "." or ".."';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (code < 0x21 || code > 0x7e) return `holds ${code < 0x20 || code === 0x7f ? 'a control character' : code === 0x20 ? 'a space' : 'a character outside printable ASCII'} (U+${code.toString(16).padStart(4, '0').toUpperCase()})`;
    if ('/:"\'#\\%'.includes(char)) return `holds ${JSON.stringify(char)}`;
  }
  return undefined;
}

export function isInterfaceName(value: string): boolean {
  return interfaceNameProblem(value) === undefined;
}

/** An absolute path that cannot climb out of where it points (no ".." segment) nor be cut short (no NUL). */
export function isSafeAbsolutePath(value: string): boolean {
  return value.startsWith('/') && !value.includes('\0') && !value.split('/').includes('..');
}

// A DNS subdomain (RFC 1123), as Kubernetes requires of Node, namespace-scoped object and host names.
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isDnsSubdomain(value: string): boolean {
  return DNS_SUBDOMAIN.test(value);
}
