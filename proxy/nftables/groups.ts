// The endpoint-count groups of the nftables table (render.ts): the Service ports of one protocol with
// the same number of endpoints share a group's sets, maps and chains, all named after its key.

/** The group of the Service ports of `protocol` with `count` endpoints, as its sets and chains name it: `tcp-3`. */
export function groupKey(protocol: string, count: number): string {
  return [protocol, count].join('-');
}

export function parseGroupKey(key: string): { protocol: string; count: number } {
  const at = key.lastIndexOf('-');
  return { protocol: key.slice(0, at), count: Number(key.slice(at + 1)) };
}

/** The sets, maps and chains of group `key`. */
export function groupNames(key: string) {
  return {
    ips: `svcs-${key}`,
    endpoints: `eps-${key}`,
    nodePorts: `nodeports-${key}`,
    nodePortEndpoints: `nodeport-eps-${key}`,
    chain: `group-${key}`,
    nodePortChain: `nodeport-group-${key}`,
  };
}

/** The protocol of group destination map `name` (`svcs-tcp-3`: tcp), which its keys leave out; undefined for any other set. */
export function groupDestinationProtocol(name: string): string | undefined {
  return /^svcs-([a-z]+)-\d+$/.exec(name)?.[1];
}

/** The groups in use, by protocol then endpoint count: they order the dispatch jumps. */
export function groupsOf(use: ReadonlyMap<string, number>): string[] {
  return [...use.keys()].sort((a, b) => {
    const [x, y] = [parseGroupKey(a), parseGroupKey(b)];
    return x.protocol === y.protocol ? x.count - y.count : x.protocol < y.protocol ? -1 : 1;
  });
}
