import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

// Files and directories named by configuration are read and made here, bounded: a path may point at
// a device (/dev/zero never ends), a FIFO (blocks for ever) or a pseudo filesystem (/proc, where
// Node's recursive mkdir spins), and none of that may hang a plugin call.

export class FileError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.name = 'FileError';
    this.code = code;
  }
}

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function kindOf(stat: { isFile(): boolean; isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return stat.isFile() ? 'a regular file' : 'not a regular file';
}

/** Reads at most maxBytes from an open descriptor; throws when there is more. */
export function readBoundedFd(fd: number, maxBytes: number, what: string): string {
  const chunks: Buffer[] = [];
  let total = 0;
  const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1));
  for (;;) {
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    total += n;
    if (total > maxBytes) throw new FileError(`cannot read ${what}: it is larger than ${maxBytes} bytes`, 'EFBIG');
    chunks.push(Buffer.from(chunk.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface ReadOptions {
  readonly maxBytes: number;
  /** Also take FIFOs (a command-line tool reading `<(kubectl get ...)`); CNI plugins take regular files only. */
  readonly allowPipe?: boolean;
}

/**
 * Reads a regular file (or, with allowPipe, a FIFO) of at most maxBytes. Opened without blocking, so
 * a FIFO nobody writes to fails at once instead of hanging; errors carry the errno code (ENOENT...).
 */
export function readBoundedFile(path: string, options: ReadOptions): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (options.allowPipe ? 0 : constants.O_NONBLOCK));
  } catch (error) {
    throw new FileError(`cannot open "${path}": ${(error as Error).message}`, errnoOf(error));
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() && !(options.allowPipe && stat.isFIFO())) throw new FileError(`cannot read "${path}": it is ${kindOf(stat)}, not a regular file`, 'EINVAL');
    return readBoundedFd(fd, options.maxBytes, `"${path}"`);
  } finally {
    closeSync(fd);
  }
}

// statfs(2) magic numbers of kernel pseudo filesystems, where nothing of ours may live.
const PSEUDO_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x1cd1, 'devpts'],
  [0x6e736673, 'nsfs'],
  [0xcafe4a11, 'bpf'],
]);

function assertOrdinaryFilesystem(path: string): void {
  const kind = PSEUDO_FILESYSTEMS.get(Number(statfsSync(path).type));
  if (kind) throw new FileError(`cannot use directory "${path}": it is on ${kind}, not a filesystem for files`, 'EINVAL');
}

/**
 * Makes sure `path` is a directory (created 0700 with its missing parents), on an ordinary filesystem.
 * Each missing component is created once, so the work is bounded by the path's length.
 */
export function ensureDirectory(path: string): void {
  const missing: string[] = [];
  let existing = path;
  for (;;) {
    let stat;
    try {
      stat = statSync(existing);
    } catch (error) {
      if (errnoOf(error) !== 'ENOENT' || dirname(existing) === existing) throw new FileError(`cannot use directory "${existing}": ${(error as Error).message}`, errnoOf(error));
      missing.push(existing);
      existing = dirname(existing);
      continue;
    }
    if (!stat.isDirectory()) throw new FileError(`cannot use directory "${existing}": it is ${kindOf(stat)}`, 'ENOTDIR');
    break;
  }
  assertOrdinaryFilesystem(existing);
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      // A parallel call may have made it; anything else (ENOENT inside /proc, EACCES) is final.
      if (errnoOf(error) !== 'EEXIST' || !lstatSync(dir).isDirectory()) throw new FileError(`cannot create directory "${dir}": ${(error as Error).message}`, errnoOf(error));
    }
  }
}

/** False when the directory does not exist (yet); a path that is not a directory, or one on a pseudo filesystem, is an error. */
export function directoryExists(path: string): boolean {
  try {
    const stat = statSync(path);
    if (!stat.isDirectory()) throw new FileError(`cannot use directory "${path}": it is ${kindOf(stat)}`, 'ENOTDIR');
    assertOrdinaryFilesystem(path);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return false;
    throw error;
  }
}
