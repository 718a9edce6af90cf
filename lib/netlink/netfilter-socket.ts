import { closeSync, openSync, readSync, write } from 'node:fs';
import type { ElementBatch } from './nftables-elements.ts';
import { NETLINK_NETFILTER, NetlinkError, openNetlinkSocket } from './socket.ts';
import { NLMSG_ERROR, parseError, splitReplies } from './wire.ts';

// nf_tables batches (nftables-elements.ts) on a NETLINK_NETFILTER socket. The kernel runs a batch
// inside the write that carries it and has queued its answers by the time the write returns, so they
// are read without waiting (the addon opens this socket non-blocking): an answer missing then is an
// error, never a hang. The write itself runs on libuv's threads, so the caller can encode the next
// batch meanwhile.

export class NetfilterSocket {
  readonly #fd: number;
  readonly #buffer = new Uint8Array(65536);

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** A socket in this process's namespace, or in the namespace at path `netns` (/run/netns/NAME, /proc/PID/ns/net). */
  static open(netns?: string): NetfilterSocket {
    if (netns === undefined) return new NetfilterSocket(openNetlinkSocket(NETLINK_NETFILTER));
    const netnsFd = openSync(netns, 'r');
    try {
      return new NetfilterSocket(openNetlinkSocket(NETLINK_NETFILTER, netnsFd));
    } finally {
      closeSync(netnsFd);
    }
  }

  close(): void {
    closeSync(this.#fd);
  }

  /** Everything the kernel has queued for this socket. */
  #drain(): Uint8Array[] {
    const reads: Uint8Array[] = [];
    for (;;) {
      try {
        const n = readSync(this.#fd, this.#buffer);
        reads.push(this.#buffer.slice(0, n));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return reads;
        throw error;
      }
    }
  }

  /** Sends `batch` (one transaction) and checks the kernel's answer to each message; throws its first refusal (the transaction then changed nothing). */
  async commit(batch: ElementBatch): Promise<void> {
    await new Promise<void>((resolve, reject) => write(this.#fd, batch.bytes, (error) => (error ? reject(error) : resolve())));
    const answered = new Set<number>();
    for (const bytes of this.#drain()) {
      for (const reply of splitReplies(bytes)) {
        if (reply.type !== NLMSG_ERROR) continue;
        const { errno, detail } = parseError(reply);
        const message = batch.messages.get(reply.seq);
        if (errno !== 0) {
          const what = message ? `add ${message.count} elements to set "${message.set}" (the first "${message.first}")` : 'commit a batch of set elements';
          throw new NetlinkError(what, errno, detail);
        }
        if (message) answered.add(reply.seq);
      }
    }
    if (answered.size !== batch.messages.size) throw new Error(`cannot add set elements: the kernel answered ${answered.size} of ${batch.messages.size} messages of a batch`);
  }
}

/** Sends `batches` in order on one socket in `netns` (this process's when undefined); stops at the first refused. */
export async function commitBatches(batches: readonly ElementBatch[], netns?: string): Promise<void> {
  const socket = NetfilterSocket.open(netns);
  try {
    for (const batch of batches) await socket.commit(batch);
  } finally {
    socket.close();
  }
}
