import { localMacFromDigest } from '../../lib/mac.ts';
import { sha256, toHex } from '../../lib/sha256.ts';
import type { Attachment } from '../cni/types.ts';

// Names and addresses derived from the attachment, so DEL, CHECK and GC find what ADD made without
// the pod's namespace and without reading anything back from the kernel.

function digest(...parts: string[]): Uint8Array {
  return sha256(parts.join('\0'));
}

/** Host end of the pod's veth: "weft" + 11 hex digits = 15 characters, the kernel's interface name limit. */
export function hostVethName(attachment: Attachment): string {
  return `weft${toHex(digest(attachment.containerId, attachment.ifname)).slice(0, 11)}`;
}

/** A fixed MAC for the bridge: without one the bridge takes its lowest port's MAC, which changes as pods come and go. */
export function bridgeMac(bridge: string): string {
  return localMacFromDigest(digest('bridge', bridge));
}

export function hostVethMac(attachment: Attachment): string {
  return localMacFromDigest(digest('host', attachment.containerId, attachment.ifname));
}

export function podMac(attachment: Attachment): string {
  return localMacFromDigest(digest('pod', attachment.containerId, attachment.ifname));
}

/** iptables chain for one pod's masquerade rules: "WEFT-MASQ-" + 16 hex = 26 characters (limit 28). */
export function masqChainName(network: string, attachment: Attachment): string {
  return `WEFT-MASQ-${toHex(digest(network, attachment.containerId, attachment.ifname)).slice(0, 16).toUpperCase()}`;
}

/**
 * The tag carried by a host veth's alias and a masquerade rule's comment: it names the network and the
 * attachment so GC can tell this network's leftovers from another's. Its parts hold no spaces or quotes
 * (the skeleton validates network names, container IDs and interface names).
 */
export function attachmentTag(network: string, attachment: Attachment): string {
  return `weft-bridge net=${network} id=${attachment.containerId} if=${attachment.ifname}`;
}

const TAG = /^weft-bridge net=(\S+) id=(\S+) if=(\S+)$/;

export function parseAttachmentTag(tag: string): { network: string; attachment: Attachment } | undefined {
  const match = TAG.exec(tag);
  return match ? { network: match[1]!, attachment: { containerId: match[2]!, ifname: match[3]! } } : undefined;
}
