import { closeSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { directoryExists, ensureDirectory, readBoundedFile } from '../../lib/files.ts';
import { formatIp, parseIp, type IP } from '../../lib/ip.ts';
import type { Allocation, AllocationStore, Owner } from './allocation.ts';

// Allocations on disk in the reference host-local's format, so a node switching plugins keeps its
// addresses: <dataDir>/<network>/<ip> holds "<containerID>\r\n<ifname>", last_reserved_ip.<set> the
// round-robin position. Node has no flock, so the claim itself is the lock: a file created with O_EXCL
// exists for exactly one process. The only module here that touches files.

/** An empty allocation file younger than this is an ADD between create and write; older, an ADD that died. */
export const WRITE_GRACE_MS = 10_000;
/** An allocation file holds a container ID and an interface name; anything larger is not one of ours. */
const MAX_FILE_BYTES = 4096;

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}

function parseOwner(content: string): Owner | undefined {
  const [containerId = '', ifname = ''] = content.split(/\r?\n/).map((line) => line.trim());
  return containerId === '' ? undefined : { containerId, ifname };
}

export interface FileStoreOptions {
  now?: () => number;
}

/** The store of one network; dataDir and network must be validated (config.ts) before they reach here. */
export function openFileStore(dataDir: string, network: string, options: FileStoreOptions = {}): AllocationStore {
  const dir = join(dataDir, network);
  const now = options.now ?? Date.now;
  const fileOf = (ip: IP): string => join(dir, formatIp(ip));
  const lastReservedFile = (rangeSet: number): string => join(dir, `last_reserved_ip.${rangeSet}`);

  function readAllocation(name: string): Allocation | undefined {
    const ip = parseIp(name);
    // Other files live here too (last_reserved_ip.N, the reference's "lock"); only canonical IPs are allocations.
    if (!ip || formatIp(ip) !== name) return undefined;
    let content: string;
    try {
      content = readBoundedFile(join(dir, name), { maxBytes: MAX_FILE_BYTES });
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined; // released meanwhile
      throw error;
    }
    const owner = parseOwner(content);
    if (owner) return { ip, owner };
    const stat = statSync(join(dir, name), { throwIfNoEntry: false });
    if (!stat) return undefined;
    return now() - stat.mtimeMs > WRITE_GRACE_MS ? { ip, owner: { containerId: '', ifname: '' } } : { ip };
  }

  return {
    list() {
      if (!directoryExists(dir)) return [];
      return readdirSync(dir).map(readAllocation).filter((a): a is Allocation => a !== undefined);
    },

    reserve(ip, owner) {
      ensureDirectory(dir);
      let fd: number;
      try {
        fd = openSync(fileOf(ip), 'wx', 0o600);
      } catch (error) {
        if (isErrno(error, 'EEXIST')) return false;
        throw error;
      }
      try {
        writeSync(fd, `${owner.containerId}\r\n${owner.ifname}`);
      } finally {
        closeSync(fd);
      }
      return true;
    },

    release(ip) {
      try {
        unlinkSync(fileOf(ip));
      } catch (error) {
        if (!isErrno(error, 'ENOENT')) throw error;
      }
    },

    lastReserved(rangeSet) {
      try {
        return parseIp(readBoundedFile(lastReservedFile(rangeSet), { maxBytes: MAX_FILE_BYTES }).trim());
      } catch (error) {
        if (isErrno(error, 'ENOENT')) return undefined;
        throw error;
      }
    },

    setLastReserved(rangeSet, ip) {
      // Written aside and renamed so a parallel ADD never reads half a file.
      const file = lastReservedFile(rangeSet);
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, formatIp(ip), { mode: 0o600 });
      renameSync(temporary, file);
    },
  };
}
