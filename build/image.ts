import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runChecked } from '../lib/exec.ts';
import { NETLINK_ADDON } from '../lib/netlink/socket.ts';
import { CNI_COMMAND_NAMES, CNI_EXECUTABLE, DAEMON_COMMAND_NAMES, EXECUTABLE } from './links.ts';
import { packOciImage } from './oci-layout.ts';
import { copyLibrariesOf, copyWithLibraries, createSkeleton, installBusybox } from './rootfs.ts';

// npm run image: the DaemonSet image as an OCI archive, without a Docker engine. The layer holds
// dist/bin's executables: /opt/weft/bin the daemons' (weft, weftd, weft-proxy, and the netlink addon
// weft-proxy loads a fresh nftables table with), /opt/weft/cni what the install step copies to the
// node (weft-cni, the CNI plugins' links, their netlink addon), plus the node tools weftd and
// weft-proxy call (ip, iptables in both backends, nft, nsenter, conntrack, ipset) and the shared
// libraries they load, copied from this Debian 12 machine; busybox supplies sh and cp for the install
// step (its sh runs its own applets before PATH: scripts call ip and nsenter by full path).
// build/Dockerfile builds the equivalent image from debian:bookworm-slim where a Docker engine exists.

const ROOT = resolve(import.meta.dirname, '..');
const WEFT_DIR = '/opt/weft/bin';
const CNI_DIR = '/opt/weft/cni';
const TOOLS = ['/usr/bin/ip', '/usr/sbin/bridge', '/usr/sbin/xtables-nft-multi', '/usr/sbin/xtables-legacy-multi', '/usr/sbin/nft', '/usr/bin/nsenter', '/usr/sbin/conntrack', '/usr/sbin/ipset'];
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
// What deploy/30-weft-node.yaml's install step runs, and a few tools for looking around in the Pod.
const BUSYBOX_APPLETS = ['sh', 'cp', 'mv', 'ln', 'mkdir', 'rm', 'rmdir', 'chmod', 'cat', 'ls', 'sleep', 'grep'];

async function populateRootfs(rootfs: string, binDir: string): Promise<void> {
  createSkeleton(rootfs);

  const install = (dir: string, file: string, links: readonly string[]) => {
    mkdirSync(join(rootfs, dir), { recursive: true, mode: 0o755 });
    copyFileSync(join(binDir, file), join(rootfs, dir, file));
    chmodSync(join(rootfs, dir, file), 0o755);
    for (const name of links) linkSync(join(rootfs, dir, file), join(rootfs, dir, name));
  };
  install(WEFT_DIR, EXECUTABLE, DAEMON_COMMAND_NAMES);
  install(WEFT_DIR, NETLINK_ADDON, []);
  install(CNI_DIR, CNI_EXECUTABLE, CNI_COMMAND_NAMES);
  install(CNI_DIR, NETLINK_ADDON, []);

  const extensions = (await runChecked('find', [XTABLES_DIR, '-name', '*.so'])).stdout.split('\n').filter(Boolean);
  await copyWithLibraries(rootfs, [...TOOLS, ...extensions]);
  await copyLibrariesOf(rootfs, [join(binDir, EXECUTABLE)]);
  for (const [link, target] of Object.entries(IPTABLES_LINKS)) symlinkSync(target, join(rootfs, 'usr/sbin', link));
  await installBusybox(rootfs, BUSYBOX_APPLETS);
}

export const WEFT_IMAGE = 'docker.io/library/weft:dev';
export const WEFT_IMAGE_TARBALL = join(ROOT, 'dist/weft-image.tar');

/** Packs dist/bin (from `npm run build`) and the node tools into an OCI archive; returns its size in bytes. */
export async function buildWeftImage(options: { binDir?: string; output?: string; name?: string } = {}): Promise<number> {
  const binDir = options.binDir ?? join(ROOT, 'dist/bin');
  const output = resolve(options.output ?? WEFT_IMAGE_TARBALL);
  for (const file of [EXECUTABLE, CNI_EXECUTABLE]) if (!existsSync(join(binDir, file))) throw new Error(`cannot build image: ${join(binDir, file)} is missing (run npm run build)`);
  const rootfs = mkdtempSync(join(dirname(output), '.rootfs-'));
  try {
    await populateRootfs(rootfs, binDir);
    await packOciImage(rootfs, output, { name: options.name ?? WEFT_IMAGE, env: [`PATH=${WEFT_DIR}:${CNI_DIR}:/usr/sbin:/usr/bin`], cmd: [`${WEFT_DIR}/${EXECUTABLE}`, '--help'] });
    chmodSync(output, 0o600);
    return statSync(output).size;
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { name: { type: 'string', default: WEFT_IMAGE }, output: { type: 'string', default: WEFT_IMAGE_TARBALL } } });
  const started = performance.now();
  const size = await buildWeftImage({ output: values.output, name: values.name });
  process.stdout.write(`image   ${String(Math.round(performance.now() - started)).padStart(6)} ms  ${relative(process.cwd(), resolve(values.output))} ${(size / 1e6).toFixed(1)} MB  ${values.name}\n`);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`image: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
