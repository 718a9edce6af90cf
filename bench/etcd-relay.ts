import { request } from 'node:http';
import { join } from 'node:path';
import { runInBackground, type BackgroundProcess } from '../lib/exec.ts';
import type { Underlay } from '../lab/underlay.ts';
import { waitFor } from '../lab/wait.ts';

// Writes to the lab's etcd from the benchmark process without starting a program per write (an
// etcdctl start costs ~15 ms, more than part of what is timed): a socat inside the underlay
// namespace relays a UNIX socket in the lab's directory to etcd's v3 JSON gateway.

const b64 = (text: string): string => Buffer.from(text).toString('base64');

export class EtcdRelay {
  readonly #socket: string;
  readonly #socat: BackgroundProcess;

  private constructor(socket: string, socat: BackgroundProcess) {
    this.#socket = socket;
    this.#socat = socat;
  }

  static async start(underlay: Underlay): Promise<EtcdRelay> {
    const socket = join(underlay.dataDir, 'relay.sock');
    const target = new URL(underlay.etcdUrl);
    const socat = runInBackground('socat', [`UNIX-LISTEN:${socket},fork,mode=600`, `TCP:${target.hostname}:${target.port}`], { netns: underlay.ns.path });
    const relay = new EtcdRelay(socket, socat);
    const answers = (): Promise<true | undefined> => relay.call('/v3/maintenance/status', {}).then(() => true as const, () => undefined);
    await waitFor('the etcd relay to answer', answers, { timeoutMs: 10_000 });
    return relay;
  }

  call(path: string, body: object): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.#socket, path, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`cannot call etcd "${path}": HTTP ${res.statusCode}: ${text.slice(0, 200)}`))));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  }

  /** Writes the key; resolves with the wall-clock time the request left, in ms since the epoch. */
  async put(key: string, value: string): Promise<number> {
    const sentAt = Date.now();
    await this.call('/v3/kv/put', { key: b64(key), value: b64(value) });
    return sentAt;
  }

  async delete(key: string): Promise<void> {
    await this.call('/v3/kv/deleterange', { key: b64(key) });
  }

  async stop(): Promise<void> {
    await this.#socat.stop('SIGTERM');
  }
}
