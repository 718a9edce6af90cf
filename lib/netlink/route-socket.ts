import { closeSync, read, readSync, write, writeSync } from 'node:fs';
import { describeLinkRequest, dumpAddressesMessage, encodeLinkRequest, getLinkMessage, parseAddress, parseLink, RTM_NEWADDR, RTM_NEWLINK, type AddressInfo, type EncodeContext, type LinkInfo, type LinkRequest } from './link-requests.ts';
import { NETLINK_ROUTE, NetlinkError, openNetlinkSocket } from './socket.ts';
import { NLMSG_DONE, NLMSG_ERROR, parseError, splitReplies, type Reply } from './wire.ts';

// rtnetlink from the CNI plugins without spawning `ip`: each spawn of `ip` cost ~10 ms of a pod's ADD.

/** A refused request of a list: which one (1-based) and what it was. */
export class LinkRequestError extends NetlinkError {
  readonly position: number;
  readonly request: LinkRequest;
  constructor(position: number, request: LinkRequest, cause: NetlinkError) {
    super(describeLinkRequest(request), cause.errno, cause.detail);
    this.name = 'LinkRequestError';
    this.position = position;
    this.request = request;
  }
}

export class RouteSocket {
  private readonly fd: number;
  private seq = 0;
  private readonly buffer = new Uint8Array(65536);
  private readonly indexes = new Map<string, number>();

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** A socket in this process's namespace, or in the namespace open as netnsFd. */
  static open(netnsFd?: number): RouteSocket {
    return new RouteSocket(openNetlinkSocket(NETLINK_ROUTE, netnsFd));
  }

  close(): void {
    closeSync(this.fd);
  }

  private stamp(request: Uint8Array): number {
    const seq = ++this.seq;
    new DataView(request.buffer, request.byteOffset).setUint32(8, seq, true);
    return seq;
  }

  /** Takes one read's replies to request seq; true once its acknowledgement (or a dump's end) came. */
  private collect(length: number, seq: number, action: string, replies: Reply[]): boolean {
    for (const reply of splitReplies(this.buffer.subarray(0, length))) {
      if (reply.seq !== seq) continue;
      if (reply.type === NLMSG_DONE) return true;
      if (reply.type !== NLMSG_ERROR) {
        replies.push({ ...reply, payload: reply.payload.slice() });
        continue;
      }
      const { errno, detail } = parseError(reply);
      if (errno !== 0) throw new NetlinkError(action, errno, detail);
      return true;
    }
    return false;
  }

  /** Sends one request and reads until its acknowledgement (or a dump's end); returns the other replies. */
  private exchange(request: Uint8Array, action: string): Reply[] {
    const seq = this.stamp(request);
    writeSync(this.fd, request);
    const replies: Reply[] = [];
    while (!this.collect(readSync(this.fd, this.buffer), seq, action, replies));
    return replies;
  }

  /**
   * The same on libuv's threads: the kernel does a request's work inside the write (removing a veth
   * waits ~10-20 ms for the network to quiesce), which a DEL spends releasing the address meanwhile.
   */
  private async exchangeInBackground(request: Uint8Array, action: string): Promise<void> {
    const seq = this.stamp(request);
    await new Promise<void>((resolve, reject) => write(this.fd, request, (error) => (error ? reject(error) : resolve())));
    const replies: Reply[] = [];
    for (;;) {
      const length = await new Promise<number>((resolve, reject) => read(this.fd, this.buffer, 0, this.buffer.length, null, (error, n) => (error ? reject(error) : resolve(n))));
      if (this.collect(length, seq, action, replies)) return;
    }
  }

  /** The link by name; undefined when there is none. */
  getLink(name: string): LinkInfo | undefined {
    try {
      const reply = this.exchange(getLinkMessage(name), `read link "${name}"`).find((r) => r.type === RTM_NEWLINK);
      if (!reply) return undefined;
      const link = parseLink(reply.payload);
      this.indexes.set(name, link.index);
      return link;
    } catch (error) {
      if (error instanceof NetlinkError && error.missing) return undefined;
      throw error;
    }
  }

  /** Every address of every link in the socket's namespace. */
  listAddresses(): AddressInfo[] {
    return this.exchange(dumpAddressesMessage(), 'list addresses')
      .filter((r) => r.type === RTM_NEWADDR)
      .flatMap((r) => parseAddress(r.payload) ?? []);
  }

  private index(name: string): number {
    const known = this.indexes.get(name) ?? this.getLink(name)?.index;
    if (known === undefined) throw new NetlinkError(`find link "${name}"`, 19);
    return known;
  }

  /** Deletes a link off the calling thread; one already gone is success. */
  async deleteLink(name: string): Promise<void> {
    const request: LinkRequest = { op: 'delete-link', name };
    try {
      await this.exchangeInBackground(encodeLinkRequest(request, this.encodeContext(new Map())), describeLinkRequest(request));
    } catch (error) {
      if (!(error instanceof NetlinkError && error.missing)) throw error;
    } finally {
      this.indexes.delete(name);
    }
  }

  private encodeContext(netnsFds: ReadonlyMap<string, number>) {
    return {
      index: (name: string) => this.index(name),
      netnsFd: (path: string) => {
        const fd = netnsFds.get(path);
        if (fd === undefined) throw new Error(`cannot encode a request for namespace "${path}": it is not open`);
        return fd;
      },
    };
  }

  /** Sends one request of a list; a refusal names its position (1-based) in the list. */
  private applyOne(request: LinkRequest, position: number, context: EncodeContext): void {
    try {
      this.exchange(encodeLinkRequest(request, context), describeLinkRequest(request));
    } catch (error) {
      if (error instanceof NetlinkError) throw new LinkRequestError(position, request, error);
      throw error;
    }
    if (request.op === 'delete-link') this.indexes.delete(request.name);
  }

  /** Applies every request in order, whatever the kernel says of the others; the ones it refused. */
  applyEach(requests: readonly LinkRequest[]): LinkRequestError[] {
    const context = this.encodeContext(new Map());
    const refused: LinkRequestError[] = [];
    for (const [i, request] of requests.entries()) {
      try {
        this.applyOne(request, i + 1, context);
      } catch (error) {
        if (!(error instanceof LinkRequestError)) throw error;
        refused.push(error);
      }
    }
    return refused;
  }

  /** Looks the link's index up again at its next use (it was made anew under the same name). */
  forget(name: string): void {
    this.indexes.delete(name);
  }

  /** Applies the requests in order, stopping at the first the kernel refuses (LinkRequestError). */
  apply(requests: readonly LinkRequest[], netnsFds: ReadonlyMap<string, number> = new Map()): void {
    const context = this.encodeContext(netnsFds);
    for (const [i, request] of requests.entries()) this.applyOne(request, i + 1, context);
  }
}
