import type { DNS } from '../cni/types.ts';

// resolv.conf as the reference host-local reads it for the result's dns: nameserver, domain, search
// and options lines; comments (# or ;) and anything else ignored.

export function parseResolvConf(text: string): DNS {
  const dns: { nameservers: string[]; search: string[]; options: string[]; domain?: string } = { nameservers: [], search: [], options: [] };
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const [key, ...values] = fields;
    if (!key || key.startsWith('#') || key.startsWith(';') || values.length === 0) continue;
    if (key === 'nameserver') dns.nameservers.push(values[0]!);
    else if (key === 'domain') dns.domain = values[0]!;
    else if (key === 'search') dns.search.push(...values);
    else if (key === 'options') dns.options.push(...values);
  }
  return {
    ...(dns.nameservers.length ? { nameservers: dns.nameservers } : {}),
    ...(dns.domain !== undefined ? { domain: dns.domain } : {}),
    ...(dns.search.length ? { search: dns.search } : {}),
    ...(dns.options.length ? { options: dns.options } : {}),
  };
}
