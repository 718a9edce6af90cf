// iptables-restore, iptables-save and nft build the whole rule set in their heap in small pieces
// (nft holds 170 MB for 10,000 Services x 10 endpoints), and on a virtual machine each first touch of
// a 4 KiB page is a costly fault: a third of `nft -f`'s time at that size went to page faults here.
// glibc's `glibc.malloc.hugetlb=1` has malloc ask for transparent huge pages (madvise), one fault per
// 2 MiB: `nft -f` of that payload 1.20 -> 0.69 s (medians of 10), iptables-legacy-restore
// 0.94 -> 0.67 s, iptables-nft-restore 2.3 -> 1.9 s. A glibc without the tunable ignores it, and the
// kernel falls back to small pages when transparent huge pages are off.

const HUGE_PAGES = 'glibc.malloc.hugetlb=1';

/** The environment the proxy's rule loaders run in: the daemon's own, with malloc on huge pages. */
export function loaderEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const tunables = env.GLIBC_TUNABLES;
  if (tunables?.split(':').some((t) => t.startsWith('glibc.malloc.hugetlb='))) return env;
  return { ...env, GLIBC_TUNABLES: tunables ? `${tunables}:${HUGE_PAGES}` : HUGE_PAGES };
}
