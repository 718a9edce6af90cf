import { join } from 'node:path';
import { cacheRoot } from './k8s-tools.ts';

// Pure knowledge about the CoreDNS the lab cluster runs as its cluster DNS: the release kubeadm pins for
// the pinned Kubernetes minor, the image name it is published under, and where the binary is cached.

export const COREDNS_MODULE = 'github.com/coredns/coredns';
/** kubeadm v1.34's constants.CoreDNSVersion. */
export const COREDNS_VERSION = 'v1.12.1';
export const COREDNS_IMAGE = `registry.k8s.io/coredns/coredns:${COREDNS_VERSION}`;

export function corednsPath(version: string = COREDNS_VERSION, env: NodeJS.ProcessEnv = process.env): string {
  if (!/^v\d+\.\d+\.\d+$/.test(version)) throw new Error(`cannot name the cache directory: "${version}" is not vX.Y.Z`);
  return join(cacheRoot(env), 'coredns', version, 'coredns');
}

/** The version `coredns -version` printed ("CoreDNS-1.12.1" on its first line), as "v1.12.1". */
export function parseCorednsVersion(output: string): string | undefined {
  const match = /^CoreDNS-(\d+\.\d+\.\d+)/m.exec(output);
  return match ? `v${match[1]}` : undefined;
}
