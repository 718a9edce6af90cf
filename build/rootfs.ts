import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { run } from '../lib/exec.ts';

// Container root filesystems without a registry or a Docker engine: files of this machine's Debian
// packages copied in with the shared libraries they load, over a merged-/usr skeleton, and Debian's
// static busybox for the shell and the small tools. Used for weft's own image and the e2e test images.

const MERGED_USR = { bin: 'usr/bin', sbin: 'usr/sbin', lib: 'usr/lib', lib64: 'usr/lib64' };
const BUSYBOX = '/bin/busybox';

/** Shared libraries a binary needs, from ldd's "name => path" lines and the interpreter line. */
export function parseLdd(output: string): string[] {
  return output
    .split('\n')
    .map((line) => /=>\s+(\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+)\s+\(/.exec(line)?.[1])
    .filter((path): path is string => path !== undefined);
}

/** The directory skeleton of a Debian 12 root (merged /usr), with /tmp sticky and /var/run -> /run. */
export function createSkeleton(rootfs: string): void {
  chmodSync(rootfs, 0o755);
  for (const [link, target] of Object.entries(MERGED_USR)) {
    mkdirSync(join(rootfs, target), { recursive: true, mode: 0o755 });
    symlinkSync(target, join(rootfs, link));
  }
  for (const dir of ['etc', 'run', 'tmp', 'var', 'root', 'home']) mkdirSync(join(rootfs, dir), { mode: 0o755 });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  symlinkSync('../run', join(rootfs, 'var/run'));
}

/** Copies a host file into rootfs at its canonical (merged-/usr) path, following symlinks for the content. */
export function copyIn(rootfs: string, file: string): string {
  const target = join(rootfs, realpathSync(dirname(file)), basename(file));
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  if (existsSync(target) && lstatSync(target).isSymbolicLink()) rmSync(target);
  if (!existsSync(target)) copyFileSync(realpathSync(file), target);
  return target;
}

/** Copies every shared library the given binaries load (a static binary loads none). */
export async function copyLibrariesOf(rootfs: string, binaries: readonly string[]): Promise<void> {
  const libraries = new Set<string>();
  for (const file of binaries) {
    const ldd = await run('ldd', [file]);
    for (const library of parseLdd(ldd.code === 0 ? ldd.stdout : '')) libraries.add(library);
  }
  for (const library of libraries) copyIn(rootfs, library);
}

/** Copies host files at their own paths, and every shared library they load. */
export async function copyWithLibraries(rootfs: string, files: readonly string[]): Promise<void> {
  for (const file of files) copyIn(rootfs, file);
  await copyLibrariesOf(rootfs, files);
}

/** Debian's static busybox at /usr/bin/busybox with a link per applet (all it has, unless `applets` says). */
export async function installBusybox(rootfs: string, applets?: readonly string[]): Promise<void> {
  copyFileSync(BUSYBOX, join(rootfs, 'usr/bin/busybox'));
  const names = applets ?? (await run(BUSYBOX, ['--list'])).stdout.split('\n').filter((n) => /^[a-z0-9][\w.+-]*$/.test(n) && n !== 'busybox');
  for (const applet of names) {
    const link = join(rootfs, 'usr/bin', applet);
    if (!existsSync(link)) symlinkSync('busybox', link);
  }
}
