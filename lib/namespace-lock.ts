import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentDeadline } from './deadline.ts';

// A lock shared by the processes of one network namespace: an abstract UNIX socket, whose names are
// per namespace and which the kernel releases when its holder dies, so a killed plugin never leaves
// a stale lock behind. Node has no flock; this needs no file either.

function tryListen(path: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(undefined) : reject(error)));
    server.listen({ path }, () => resolve(server));
  });
}

/** Runs `work` holding the lock `name` of this network namespace; waits for it until the current deadline (or maxWaitMs). */
export async function withNamespaceLock<T>(name: string, work: () => Promise<T>, options: { maxWaitMs?: number } = {}): Promise<T> {
  const path = `\0weft-${name}`;
  const giveUp = Math.min(currentDeadline()?.at ?? Infinity, Date.now() + (options.maxWaitMs ?? 30_000));
  let server: Server | undefined;
  while (!(server = await tryListen(path))) {
    if (Date.now() >= giveUp) throw new Error(`cannot take lock "${name}": another process has held it too long`);
    await sleep(5 + Math.random() * 20);
  }
  try {
    return await work();
  } finally {
    server.close();
  }
}
