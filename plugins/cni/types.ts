// The CNI spec's data types in their 1.1.0 form; older result forms are converted at the edges (result.ts).

export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  cniVersions?: string[];
  ipam?: { type?: string; [key: string]: unknown };
  dns?: DNS;
  prevResult?: unknown;
  runtimeConfig?: Record<string, unknown>;
  args?: Record<string, unknown>;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface Interface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
}

export interface IPConfig {
  /** CIDR: the address and the prefix length of its subnet. */
  address: string;
  gateway?: string;
  /** Index into the result's interfaces. */
  interface?: number;
}

export interface Route {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface DNS {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface Result {
  cniVersion: string;
  interfaces?: Interface[];
  ips?: IPConfig[];
  routes?: Route[];
  dns?: DNS;
}

export type Verb = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';

/** An attachment the runtime still uses, from GC's cni.dev/valid-attachments. */
export interface Attachment {
  containerId: string;
  ifname: string;
}
