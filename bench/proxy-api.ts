import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import type { ControlPlane } from '../lab/kube/control-plane.ts';

// Writes to the API server from inside the control plane's namespace (the benchmark runs in the root
// namespace, which has no route to it): one long-lived Node process with a keep-alive HTTPS agent,
// told what to send on stdin and answering with when each request left and when its answer came, on
// the clock of proxy-clock.ts. A spawned curl per write would add its own start-up to every figure.

const HELPER = `
const https = require('node:https');
const fs = require('node:fs');
const [server, ca, cert, key] = process.argv.slice(1);
const agent = new https.Agent({ keepAlive: true, maxSockets: 16, ca: fs.readFileSync(ca), cert: fs.readFileSync(cert), key: fs.readFileSync(key) });
const now = () => performance.timeOrigin + performance.now();
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const c = JSON.parse(line);
  const headers = c.body === undefined ? {} : { 'content-type': c.contentType, 'content-length': Buffer.byteLength(c.body) };
  const sentAt = now();
  const req = https.request(server + c.path, { method: c.method, agent, headers }, (res) => {
    let text = '';
    res.on('data', (d) => (text += d));
    res.on('end', () => process.stdout.write(JSON.stringify({ id: c.id, sentAt, doneAt: now(), status: res.statusCode, error: res.statusCode >= 300 ? text.slice(0, 300) : undefined }) + '\\n'));
  });
  req.on('error', (e) => process.stdout.write(JSON.stringify({ id: c.id, sentAt, doneAt: now(), status: 0, error: e.message }) + '\\n'));
  req.end(c.body);
});
`;

export interface ApiWrite {
  /** When the request left the helper, and when its answer arrived (epoch ms). */
  readonly sentAt: number;
  readonly doneAt: number;
}

export class ApiWriter {
  readonly #child: ResultPromise;
  readonly #pending = new Map<number, { resolve: (w: ApiWrite) => void; reject: (e: Error) => void; what: string }>();
  #next = 0;

  constructor(cp: ControlPlane, cpNetns: string) {
    const user = JSON.parse(readFileSync(cp.kubeconfig, 'utf8')).users[0].user as Record<string, string>;
    this.#child = execa('nsenter', [`--net=${cpNetns}`, '--', process.execPath, '-e', HELPER, cp.server, cp.caFile, user['client-certificate'] as string, user['client-key'] as string], {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'inherit',
      buffer: false,
      reject: false,
    });
    createInterface({ input: this.#child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const answer = JSON.parse(line) as { id: number; sentAt: number; doneAt: number; status: number; error?: string };
      const waiting = this.#pending.get(answer.id);
      this.#pending.delete(answer.id);
      if (!waiting) return;
      if (answer.status >= 200 && answer.status < 300) waiting.resolve({ sentAt: answer.sentAt, doneAt: answer.doneAt });
      else waiting.reject(new Error(`cannot ${waiting.what}: HTTP ${answer.status}: ${answer.error ?? ''}`));
    });
  }

  request(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<ApiWrite> {
    const id = this.#next++;
    const what = `${method} ${path}`;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, what });
      const contentType = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
      this.#child.stdin?.write(`${JSON.stringify({ id, method, path, contentType, body: body === undefined ? undefined : JSON.stringify(body) })}\n`);
    });
  }

  async close(): Promise<void> {
    this.#child.stdin?.end();
    await this.#child;
  }
}
