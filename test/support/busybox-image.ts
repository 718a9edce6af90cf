import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { packOciImage } from '../../build/oci-layout.ts';

// A container image without a registry: Debian's static busybox and a few applet links.

const BUSYBOX = '/bin/busybox';
export const BUSYBOX_IMAGE = 'weft.test/busybox:latest';
const APPLETS = ['sh', 'ip', 'ping', 'sleep', 'cat', 'ls', 'true'];

/** Builds the image tarball in workDir and returns its path. */
export async function buildBusyboxImage(workDir: string): Promise<string> {
  const rootfs = join(workDir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true, mode: 0o755 });
  copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
  for (const applet of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', applet));
  const image = join(workDir, 'busybox-image.tar');
  await packOciImage(rootfs, image, { name: BUSYBOX_IMAGE, env: ['PATH=/bin'], cmd: ['sh'] });
  return image;
}
