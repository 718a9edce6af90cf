// The name and path shapes validated at every boundary (CNI env and config, daemon flags), so a
// value that passed can be used in a file name or a command without further quoting.

const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const INTERFACE_FORBIDDEN = /[/:\s]/;
const IFNAMSIZ = 15;

/** Letters, digits, "_", "." and "-", starting with a letter or digit: CNI's container IDs and network names. */
export function isPlainName(value: string): boolean {
  return PLAIN_NAME.test(value);
}

/** What the kernel takes as an interface name: 1 to 15 bytes, no "/", ":" or whitespace, not "." or "..". */
export function isInterfaceName(value: string): boolean {
  const bytes = Buffer.byteLength(value);
  return bytes >= 1 && bytes <= IFNAMSIZ && !INTERFACE_FORBIDDEN.test(value) && value !== '.' && value !== '..';
}

/** An absolute path that cannot climb out of where it points (no ".." segment) nor be cut short (no NUL). */
export function isSafeAbsolutePath(value: string): boolean {
  return value.startsWith('/') && !value.includes('\0') && !value.split('/').includes('..');
}
