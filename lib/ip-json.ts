// What `ip -json` prints, typed once for every reader (bridge, CHECK, GC, weftd's fabric), and read
// so that one entry the parser cannot take never hides the others: iproute2 prints a control
// character in a name or alias raw, which is not JSON, and GC must still see every other link.

export interface IpAddrInfo {
  readonly family?: string;
  readonly local: string;
  readonly prefixlen: number;
}

/** One entry of `ip [-d] -json link|addr show`. */
export interface IpLink {
  readonly ifname: string;
  readonly mtu?: number;
  readonly address?: string;
  readonly flags?: readonly string[];
  readonly master?: string;
  readonly ifalias?: string;
  readonly addr_info?: readonly IpAddrInfo[];
  readonly linkinfo?: {
    readonly info_kind?: string;
    readonly info_data?: { readonly id?: number; readonly local?: string; readonly port?: number; readonly learning?: boolean };
  };
}

/** One entry of `ip -json route show`. */
export interface IpRoute {
  readonly dst: string;
  readonly gateway?: string;
  readonly dev?: string;
}

/** One entry of `ip -json neigh show`. */
export interface IpNeighbour {
  readonly dst: string;
  readonly lladdr?: string;
}

export interface IpJsonListing<T> {
  readonly entries: T[];
  /** Entries that were not JSON even after escaping control characters, as printed (cut to 200 characters). */
  readonly unreadable: string[];
}

// Raw control characters can only occur inside strings (ip escapes \t \n \r \b \f itself), so escaping
// every one of them turns ip's output back into JSON without changing any other value.
function escapeControlCharacters(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' || c === '\t' || c === '\r' ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** The top-level array's elements as text, found by tracking strings and nesting. */
function splitTopLevel(text: string): string[] | undefined {
  const start = text.indexOf('[');
  if (start < 0) return undefined;
  const elements: string[] = [];
  let depth = 0;
  let inString = false;
  let from = -1;
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
    } else if (c === '{' || c === '[') {
      if (depth === 0) from = i;
      depth++;
    } else if (c === '}' || c === ']') {
      if (depth === 0) return elements; // the closing bracket of the top-level array
      depth--;
      if (depth === 0) {
        elements.push(text.slice(from, i + 1));
        from = -1;
      }
    }
  }
  return elements;
}

/** Parses `ip -json` output: a JSON array, each element parsed on its own when the whole is not JSON. */
export function parseIpJson<T>(text: string): IpJsonListing<T> {
  const trimmed = escapeControlCharacters(text.trim());
  if (trimmed === '') return { entries: [], unreadable: [] };
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (Array.isArray(parsed)) return { entries: parsed as T[], unreadable: [] };
  } catch {
    // fall through to element-wise parsing
  }
  const entries: T[] = [];
  const unreadable: string[] = [];
  for (const element of splitTopLevel(trimmed) ?? [trimmed]) {
    try {
      entries.push(JSON.parse(element) as T);
    } catch {
      unreadable.push(element.slice(0, 200));
    }
  }
  return { entries, unreadable };
}
