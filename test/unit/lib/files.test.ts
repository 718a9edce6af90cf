import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDirectory, readBoundedFile } from '../../../lib/files.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readBoundedFile', () => {
  it('reads a regular file', () => {
    writeFileSync(join(dir, 'a'), 'nameserver 10.0.0.1\n');
    expect(readBoundedFile(join(dir, 'a'), { maxBytes: 100 })).toBe('nameserver 10.0.0.1\n');
  });

  it('refuses a device at once instead of reading /dev/zero for ever', () => {
    expect(() => readBoundedFile('/dev/zero', { maxBytes: 1024 })).toThrow('cannot read "/dev/zero": it is a device, not a regular file');
  });

  it('refuses a FIFO nobody writes to without blocking', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(() => readBoundedFile(fifo, { maxBytes: 1024 })).toThrow('it is a FIFO, not a regular file');
  });

  it('refuses a file larger than the bound', () => {
    writeFileSync(join(dir, 'big'), 'x'.repeat(2048));
    expect(() => readBoundedFile(join(dir, 'big'), { maxBytes: 1024 })).toThrow('larger than 1024 bytes');
  });

  it('reports a missing file with ENOENT', () => {
    expect(() => readBoundedFile(join(dir, 'nope'), { maxBytes: 1 })).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe('ensureDirectory', () => {
  it('creates missing parents 0700', () => {
    const path = join(dir, 'x/y/z');
    ensureDirectory(path);
    expect(statSync(path).isDirectory()).toBe(true);
    expect(statSync(join(dir, 'x')).mode & 0o777).toBe(0o700);
  });

  it('fails at once under /proc, where a recursive mkdir spins', () => {
    expect(() => ensureDirectory('/proc/sys/net/weft-test/x')).toThrow('cannot use directory "/proc/sys/net": it is on proc');
  });

  it('refuses a regular file, and a path through one', () => {
    writeFileSync(join(dir, 'file'), '');
    expect(() => ensureDirectory(join(dir, 'file'))).toThrow('it is a regular file');
    expect(() => ensureDirectory(join(dir, 'file/sub'))).toThrow('ENOTDIR');
  });
});
