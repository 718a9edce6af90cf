import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runChecked } from '../lib/exec.ts';
import { COMMAND_NAMES } from './links.ts';
import { packOciImage } from './oci-layout.ts';

// npm run image: the DaemonSet image as an OCI archive, without a Docker engine. The layer holds
// dist/bin (the single executable and its links) plus the node tools weftd and weft-proxy call (ip,
// iptables in both backends, nft, nsenter, conntrack, ipset) and the shared libraries they load, copied
// from this Debian 12 machine; busybox supplies sh and cp for the install step (its sh runs
// its own applets before PATH: scripts call ip and nsenter by full path). build/Dockerfile builds
// the equivalent image from debian:bookworm-slim where a Docker engine exists.

const ROOT = resolve(import.meta.dirname, '..');
const WEFT_DIR = '/opt/weft/bin';
const TOOLS = ['/usr/bin/ip', '/usr/sbin/xtables-nft-multi', '/usr/sbin/xtables-legacy-multi', '/usr/sbin/nft', '/usr/bin/nsenter', '/usr/sbin/conntrack', '/usr/sbin/ipset'];
// iptables loads its match and target extensions with dlopen, so ldd of the binary does not list them.
const XTABLES_DIR = '/usr/lib/x86_64-linux-gnu/xtables';
const IPTABLES_LINKS: Record<string, string> = Object.fromEntries(
  ['iptables', 'ip6tables'].flatMap((family) =>
    ['', '-restore', '-save'].flatMap((suffix) => [
      [`${family}${suffix}`, 'xtables-nft-multi'],
      [`${family}-nft${suffix}`, 'xtables-nft-multi'],
      [`${family}-legacy${suffix}`, 'xtables-legacy-multi'],
    ]),
  ),
);
const BUSYBOX_APPLETS = ['sh', 'cp', 'mv', 'ln', 'mkdir', 'rm', 'cat', 'ls', 'sleep'];
const MERGED_USR = { bin: 'usr/bin', sbin: 'usr/sbin', lib: 'usr/lib', lib64: 'usr/lib64' };

/** Shared libraries a binary needs, from ldd's "name => path" lines and the interpreter line. */
export function parseLdd(output: string): string[] {
  return output
    .split('\n')
    .map((line) => /=>\s+(\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+)\s+\(/.exec(line)?.[1])
    .filter((path): path is string => path !== undefined);
}

/** Copies a host file into rootfs at its canonical (merged-/usr) path, following symlinks for the content. */
function copyIn(rootfs: string, file: string): string {
  const target = join(rootfs, realpathSync(dirname(file)), basename(file));
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  if (!existsSync(target)) copyFileSync(realpathSync(file), target);
  return target;
}

/** Copies the libraries of every file in `linked` (already in place or copied along with them). */
async function copyLibraries(rootfs: string, linked: readonly string[]): Promise<void> {
  const libraries = new Set<string>();
  for (const file of linked) {
    const ldd = await runChecked('ldd', [file]).catch(() => undefined); // a static binary has no libraries
    for (const library of parseLdd(ldd?.stdout ?? '')) libraries.add(library);
  }
  for (const library of libraries) copyIn(rootfs, library);
}

async function populateRootfs(rootfs: string, binDir: string): Promise<void> {
  chmodSync(rootfs, 0o755);
  for (const [link, target] of Object.entries(MERGED_USR)) {
    mkdirSync(join(rootfs, target), { recursive: true, mode: 0o755 });
    symlinkSync(target, join(rootfs, link));
  }
  for (const dir of ['etc', 'run', 'tmp', 'var']) mkdirSync(join(rootfs, dir), { mode: 0o755 });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  symlinkSync('../run', join(rootfs, 'var/run'));

  const weftDir = join(rootfs, WEFT_DIR);
  mkdirSync(weftDir, { recursive: true, mode: 0o755 });
  copyFileSync(join(binDir, 'weft'), join(weftDir, 'weft'));
  chmodSync(join(weftDir, 'weft'), 0o755);
  for (const name of COMMAND_NAMES) linkSync(join(weftDir, 'weft'), join(weftDir, name));

  const extensions = (await runChecked('find', [XTABLES_DIR, '-name', '*.so'])).stdout.split('\n').filter(Boolean);
  for (const file of [...TOOLS, ...extensions]) copyIn(rootfs, file);
  await copyLibraries(rootfs, [join(binDir, 'weft'), ...TOOLS, ...extensions]);
  for (const [link, target] of Object.entries(IPTABLES_LINKS)) symlinkSync(target, join(rootfs, 'usr/sbin', link));
  copyFileSync('/bin/busybox', join(rootfs, 'usr/bin/busybox'));
  for (const applet of BUSYBOX_APPLETS) symlinkSync('busybox', join(rootfs, 'usr/bin', applet));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { name: { type: 'string', default: 'docker.io/library/weft:dev' }, output: { type: 'string', default: join(ROOT, 'dist/weft-image.tar') } } });
  const binDir = join(ROOT, 'dist/bin');
  if (!existsSync(join(binDir, 'weft'))) throw new Error('cannot build image: dist/bin/weft is missing (run npm run build)');
  const output = resolve(values.output);
  const rootfs = mkdtempSync(join(dirname(output), '.rootfs-'));
  try {
    const started = performance.now();
    await populateRootfs(rootfs, binDir);
    await packOciImage(rootfs, output, { name: values.name, env: [`PATH=${WEFT_DIR}:/usr/sbin:/usr/bin`], cmd: [`${WEFT_DIR}/weft`, '--help'] });
    chmodSync(output, 0o600);
    process.stdout.write(`image   ${String(Math.round(performance.now() - started)).padStart(6)} ms  ${relative(process.cwd(), output)} ${(statSync(output).size / 1e6).toFixed(1)} MB  ${values.name}\n`);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`image: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
