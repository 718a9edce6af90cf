import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatIp, parseIp } from '../../../lib/ip.ts';
import { openFileStore } from '../../../plugins/host-local/store.ts';

// The file store against a temporary directory: the reference plugin's on-disk format and the O_EXCL claim.

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-hl-store-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const ip = (text: string) => parseIp(text)!;
const owner = { containerId: 'c1', ifname: 'eth0' };

describe('file allocation store', () => {
  it('writes "<containerID>\\r\\n<ifname>" to <dataDir>/<network>/<ip>, file 0600 in a 0700 directory', () => {
    const root = dataDir();
    const store = openFileStore(root, 'net1');
    expect(store.reserve(ip('10.1.0.2'), owner)).toBe(true);
    expect(store.reserve(ip('fd00::2'), owner)).toBe(true);
    expect(readFileSync(join(root, 'net1/10.1.0.2'), 'utf8')).toBe('c1\r\neth0');
    expect(readFileSync(join(root, 'net1/fd00::2'), 'utf8')).toBe('c1\r\neth0');
    expect(statSync(join(root, 'net1/10.1.0.2')).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'net1')).mode & 0o777).toBe(0o700);
  });

  it('refuses a second claim of the same address, even from another store instance', () => {
    const root = dataDir();
    expect(openFileStore(root, 'net1').reserve(ip('10.1.0.2'), owner)).toBe(true);
    expect(openFileStore(root, 'net1').reserve(ip('10.1.0.2'), { containerId: 'c2', ifname: 'eth0' })).toBe(false);
    expect(readFileSync(join(root, 'net1/10.1.0.2'), 'utf8')).toBe('c1\r\neth0');
  });

  it('lists allocations written by the reference plugin and ignores its lock and last_reserved_ip files', () => {
    const root = dataDir();
    mkdirSync(join(root, 'net1'));
    writeFileSync(join(root, 'net1/10.1.0.7'), 'abc\r\neth0');
    writeFileSync(join(root, 'net1/lock'), '');
    writeFileSync(join(root, 'net1/last_reserved_ip.0'), '10.1.0.7');
    const store = openFileStore(root, 'net1');
    expect(store.list().map((a) => [formatIp(a.ip), a.owner])).toEqual([['10.1.0.7', { containerId: 'abc', ifname: 'eth0' }]]);
    expect(formatIp(store.lastReserved(0)!)).toBe('10.1.0.7');
    expect(store.lastReserved(1)).toBeUndefined();
  });

  it('lists a missing network directory as empty and releases a free address without error', () => {
    const store = openFileStore(dataDir(), 'net1');
    expect(store.list()).toEqual([]);
    expect(() => store.release(ip('10.1.0.2'))).not.toThrow();
  });

  it('treats an empty file as an ADD in progress, and after 10 s as an orphan GC may free', () => {
    const root = dataDir();
    mkdirSync(join(root, 'net1'));
    writeFileSync(join(root, 'net1/10.1.0.3'), '');
    const now = Date.now();
    expect(openFileStore(root, 'net1', { now: () => now }).list()).toEqual([{ ip: ip('10.1.0.3') }]);
    utimesSync(join(root, 'net1/10.1.0.3'), now / 1000 - 60, now / 1000 - 60);
    expect(openFileStore(root, 'net1', { now: () => now }).list()).toEqual([{ ip: ip('10.1.0.3'), owner: { containerId: '', ifname: '' } }]);
  });

  it('replaces last_reserved_ip.N whole, leaving no temporary file, mode 0600', () => {
    const root = dataDir();
    const store = openFileStore(root, 'net1');
    store.reserve(ip('10.1.0.2'), owner);
    store.setLastReserved(0, ip('10.1.0.2'));
    store.setLastReserved(0, ip('10.1.0.3'));
    expect(readFileSync(join(root, 'net1/last_reserved_ip.0'), 'utf8')).toBe('10.1.0.3');
    expect(statSync(join(root, 'net1/last_reserved_ip.0')).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(root, 'net1')).sort()).toEqual(['10.1.0.2', 'last_reserved_ip.0']);
  });

  it('release removes the file', () => {
    const root = dataDir();
    const store = openFileStore(root, 'net1');
    store.reserve(ip('10.1.0.2'), owner);
    store.release(ip('10.1.0.2'));
    expect(readdirSync(join(root, 'net1'))).toEqual([]);
  });
});
