import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { parseIpv4 } from '../../lib/ip.ts';
import { portNumber } from '../model/target.ts';
import { parseFlags, stringFlag, UsageError } from './args.ts';

// `weft probe-send`: sends the one probe packet of `weft explain --probe` from the network namespace
// it runs in (explain starts it in the source pod's namespace): a TCP connection attempt or a UDP
// datagram from a fixed source address and port, and prints what came back as JSON.

const FLAGS = { from: 'string', to: 'string', sport: 'string', 'timeout-ms': 'string' } as const;

type Answer = 'connected' | 'refused' | 'unreachable' | 'timeout' | 'reply' | 'no reply';

function sendTcp(from: string, to: { ip: string; port: number }, sport: number, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect({ host: to.ip, port: to.port, localAddress: from, localPort: sport });
    const done = (answer: Answer) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done('timeout'));
    socket.once('connect', () => done('connected'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED' ? 'refused' : error.code === 'ETIMEDOUT' ? 'timeout' : 'unreachable'));
  });
}

function sendUdp(from: string, to: { ip: string; port: number }, sport: number, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => done('no reply'), timeoutMs);
    const done = (answer: Answer) => {
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    socket.once('message', () => done('reply'));
    socket.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNREFUSED' ? done('refused') : reject(error)));
    socket.bind(sport, from, () => socket.connect(to.port, to.ip, () => socket.send('weft probe')));
  });
}

export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseFlags(argv, FLAGS);
    const from = stringFlag(args, 'from') ?? '';
    const m = /^([\d.]+):(\d+)\/(tcp|udp)$/.exec(stringFlag(args, 'to') ?? '');
    const sport = portNumber(stringFlag(args, 'sport') ?? '');
    const timeoutMs = Number(stringFlag(args, 'timeout-ms') ?? 1500);
    if (parseIpv4(from) === undefined) throw new UsageError(`flag "--from" must be an IPv4 address, got "${from}"`);
    if (!m || parseIpv4(m[1] as string) === undefined || portNumber(m[2] as string) === undefined) throw new UsageError(`flag "--to" must be IP:PORT/tcp|udp, got "${stringFlag(args, 'to') ?? ''}"`);
    if (sport === undefined) throw new UsageError(`flag "--sport" must be a port, got "${stringFlag(args, 'sport') ?? ''}"`);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 30_000) throw new UsageError(`flag "--timeout-ms" must be 100 to 30000`);
    const to = { ip: m[1] as string, port: Number(m[2]) };
    const started = performance.now();
    const answer = m[3] === 'tcp' ? await sendTcp(from, to, sport, timeoutMs) : await sendUdp(from, to, sport, timeoutMs);
    process.stdout.write(`${JSON.stringify({ answer, ms: Math.round(performance.now() - started) })}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`weft probe-send: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
}
