import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packOciImage, type ImageSpec } from '../../build/oci-layout.ts';
import { copyLibrariesOf, copyWithLibraries, createSkeleton, installBusybox } from '../../build/rootfs.ts';
import { runChecked } from '../../lib/exec.ts';
import { COREDNS_IMAGE, corednsPath } from '../../scripts/coredns-tools.ts';
import { cacheRoot, k8sBinDir } from '../../scripts/k8s-tools.ts';
import { PAUSE_IMAGE } from './node-config.ts';

// The images a lab cluster runs, built here under their upstream names so Pods with
// imagePullPolicy IfNotPresent start with no registry: the sandbox image, CoreDNS, and what the upstream
// e2e suite uses (the names and tags `e2e.test --list-images` prints at the pinned version). Their
// userland is this machine's Debian packages (busybox for the small tools, as Alpine has them), built
// once into ~/.cache/weft/images.

/** Bumped when a recipe changes, so cached tarballs of an older recipe are rebuilt. */
const RECIPE_REVISION = 2;
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const E2E_IMAGES = {
  agnhost: 'registry.k8s.io/e2e-test-images/agnhost:2.56',
  jessieDnsutils: 'registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7',
  nginx: 'registry.k8s.io/e2e-test-images/nginx:1.14-4',
} as const;

interface Recipe {
  name: string;
  spec: Omit<ImageSpec, 'name'>;
  populate(rootfs: string, k8sVersion: string): Promise<void>;
}

// A Debian userland for test images: the tools e2e tests exec (dig, curl, nc, ip, ss, getent, iperf, bash)
// and dash as /bin/sh from this machine's packages, over busybox for seq, awk, hostname and the rest.
// Debian's busybox sh runs its own applets before PATH (its ip and nc are not iproute2's and OpenBSD's),
// so it is no /bin/sh here.
const TEST_TOOLS = ['/usr/bin/dash', '/usr/bin/bash', '/usr/bin/dig', '/usr/bin/nslookup', '/usr/bin/host', '/usr/bin/curl', '/usr/bin/nc', '/usr/bin/ip', '/usr/bin/ss', '/usr/bin/iperf', '/usr/bin/getent'];

const PASSWD = ['root:x:0:0:root:/root:/bin/sh', 'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin', 'user-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh', 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin', ''];
const GROUP = ['root:x:0:', 'www-data:x:33:', 'user-defined-in-image:x:1000:', 'group-defined-in-image:x:50000:user-defined-in-image', 'nogroup:x:65534:', ''];

async function populateTestUserland(rootfs: string): Promise<void> {
  createSkeleton(rootfs);
  await installBusybox(rootfs);
  await copyWithLibraries(rootfs, TEST_TOOLS);
  rmSync(join(rootfs, 'usr/bin/sh'));
  symlinkSync('dash', join(rootfs, 'usr/bin/sh'));
  writeFileSync(join(rootfs, 'etc/passwd'), PASSWD.join('\n'), { mode: 0o644 });
  writeFileSync(join(rootfs, 'etc/group'), GROUP.join('\n'), { mode: 0o644 });
  writeFileSync(join(rootfs, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n', { mode: 0o644 });
  mkdirSync(join(rootfs, 'home/user-defined-in-image'), { mode: 0o755 });
  copyFileSync(corednsPath(), join(rootfs, 'coredns'));
  chmodSync(join(rootfs, 'coredns'), 0o755);
}

const RECIPES: Recipe[] = [
  {
    name: PAUSE_IMAGE,
    spec: { entrypoint: ['/pause'], user: '65535:65535' },
    async populate(rootfs) {
      chmodSync(rootfs, 0o755);
      // What a sandbox needs: hold the namespaces, reap orphans, exit on SIGINT/SIGTERM.
      const source = join(rootfs, 'pause.c');
      writeFileSync(source, [
        '#include <signal.h>', '#include <sys/wait.h>', '#include <unistd.h>',
        'static void reap(int s) { (void)s; while (waitpid(-1, 0, WNOHANG) > 0) {} }',
        'static void quit(int s) { (void)s; _exit(0); }',
        'int main(void) { signal(SIGINT, quit); signal(SIGTERM, quit); signal(SIGCHLD, reap); for (;;) pause(); }', '',
      ].join('\n'));
      await runChecked('gcc', ['-static', '-O2', '-s', '-o', join(rootfs, 'pause'), source]);
      rmSync(source);
    },
  },
  {
    name: COREDNS_IMAGE,
    spec: { entrypoint: ['/coredns'] },
    async populate(rootfs) {
      chmodSync(rootfs, 0o755);
      copyFileSync(corednsPath(), join(rootfs, 'coredns'));
      chmodSync(join(rootfs, 'coredns'), 0o755);
    },
  },
  {
    name: E2E_IMAGES.agnhost,
    spec: { env: [PATH_ENV], entrypoint: ['/agnhost'], cmd: ['pause'] },
    async populate(rootfs, k8sVersion) {
      await populateTestUserland(rootfs);
      copyFileSync(join(k8sBinDir(k8sVersion), 'agnhost'), join(rootfs, 'agnhost'));
      chmodSync(join(rootfs, 'agnhost'), 0o755);
      symlinkSync('agnhost', join(rootfs, 'agnhost-2'));
      mkdirSync(join(rootfs, 'uploads'), { mode: 0o755 });
      mkdirSync(join(rootfs, 'usr/local/bin'), { recursive: true, mode: 0o755 });
      symlinkSync('/usr/bin/iperf', join(rootfs, 'usr/local/bin/iperf'));
      // porter serves TLS with the certificate the upstream image carries (test data of the pinned module).
      const porter = join(await moduleDir(k8sVersion), 'test/images/agnhost/porter');
      for (const file of ['localhost.crt', 'localhost.key']) copyFileSync(join(porter, file), join(rootfs, file));
    },
  },
  {
    name: E2E_IMAGES.jessieDnsutils,
    spec: { env: [PATH_ENV], cmd: ['bash'] },
    populate: (rootfs) => populateTestUserland(rootfs),
  },
  {
    name: E2E_IMAGES.nginx,
    spec: { env: [PATH_ENV], cmd: ['nginx', '-g', 'daemon off;'] },
    async populate(rootfs) {
      await populateTestUserland(rootfs);
      // From the packages' files, not an install: installing Debian's nginx would start a server on the machine.
      const staged = await extractPackages(['nginx', 'nginx-common'], `${rootfs}.debs`);
      copyFileSync(join(staged, 'usr/sbin/nginx'), join(rootfs, 'usr/sbin/nginx'));
      chmodSync(join(rootfs, 'usr/sbin/nginx'), 0o755);
      await copyLibrariesOf(rootfs, [join(staged, 'usr/sbin/nginx')]);
      mkdirSync(join(rootfs, 'etc/nginx'), { recursive: true, mode: 0o755 });
      copyFileSync(join(staged, 'etc/nginx/mime.types'), join(rootfs, 'etc/nginx/mime.types'));
      rmSync(`${rootfs}.debs`, { recursive: true, force: true });
      writeFileSync(join(rootfs, 'etc/nginx/nginx.conf'), [
        'user www-data;', 'worker_processes 1;', 'error_log /dev/stderr;', 'pid /run/nginx.pid;', 'events {}',
        'http { include mime.types; access_log /dev/stdout; server { listen 80; root /usr/share/nginx/html; } }', '',
      ].join('\n'), { mode: 0o644 });
      for (const dir of ['var/lib/nginx', 'var/log/nginx', 'usr/share/nginx/html']) mkdirSync(join(rootfs, dir), { recursive: true, mode: 0o755 });
      writeFileSync(join(rootfs, 'usr/share/nginx/html/index.html'), '<!DOCTYPE html>\n<title>Welcome to nginx!</title>\n', { mode: 0o644 });
    },
  },
];

/**
 * Downloads Debian packages (no install, no maintainer scripts) and unpacks their files under dir/root.
 * apt downloads as root here (it warns that _apt cannot write into the private cache directory).
 */
async function extractPackages(packages: readonly string[], dir: string): Promise<string> {
  const root = join(dir, 'root');
  mkdirSync(root, { recursive: true, mode: 0o755 });
  await runChecked('sh', ['-c', 'cd "$1" && shift && apt-get download -q "$@"', 'sh', dir, ...packages]);
  for (const deb of readdirSync(dir).filter((f) => f.endsWith('.deb'))) await runChecked('dpkg-deb', ['-x', join(dir, deb), root]);
  return root;
}

async function moduleDir(k8sVersion: string): Promise<string> {
  const download = await runChecked('go', ['mod', 'download', '-json', `k8s.io/kubernetes@${k8sVersion}`]);
  return JSON.parse(download.stdout).Dir as string;
}

export function imageCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'images');
}

/** The cached tarball of an image: registry.k8s.io/e2e-test-images/agnhost:2.56 -> agnhost-2.56-r1.tar. */
export function imageTarball(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const last = name.slice(name.lastIndexOf('/') + 1).replace(':', '-');
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(last)) throw new Error(`cannot name the image tarball: "${name}" ends in characters a file name cannot hold`);
  return join(imageCacheDir(env), `${last}-r${RECIPE_REVISION}.tar`);
}

export const LAB_IMAGE_NAMES: readonly string[] = RECIPES.map((r) => r.name);

/** Builds the images not cached yet; returns every tarball (reused ones too), in recipe order. */
export async function ensureLabImages(k8sVersion: string, progress: (line: string) => void): Promise<string[]> {
  const tarballs: string[] = [];
  for (const recipe of RECIPES) {
    const tarball = imageTarball(recipe.name);
    tarballs.push(tarball);
    if (existsSync(tarball)) continue;
    mkdirSync(dirname(tarball), { recursive: true, mode: 0o700 });
    const rootfs = mkdtempSync(join(dirname(tarball), '.rootfs-'));
    try {
      const started = Date.now();
      await recipe.populate(rootfs, k8sVersion);
      await packOciImage(rootfs, tarball, { name: recipe.name, ...recipe.spec });
      chmodSync(tarball, 0o600);
      progress(`built image ${recipe.name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } finally {
      rmSync(rootfs, { recursive: true, force: true });
    }
  }
  return tarballs;
}
