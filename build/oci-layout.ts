import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runChecked } from '../lib/exec.ts';

// Container images without a Docker engine: a directory tree becomes one uncompressed layer, written
// as an OCI image layout and packed into the tarball `ctr image import` (and `docker load`-compatible
// tools that read OCI archives) accept.

export interface ImageSpec {
  /** Full reference, e.g. "ghcr.io/weft/weft:dev"; stored as io.containerd.image.name. */
  name: string;
  env?: string[];
  entrypoint?: string[];
  cmd?: string[];
  /** "uid:gid" the image runs as when the Pod does not say. */
  user?: string;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

function writeBlob(layout: string, mediaType: string, data: Buffer): Descriptor {
  const hex = createHash('sha256').update(data).digest('hex');
  writeFileSync(join(layout, 'blobs/sha256', hex), data, { mode: 0o600 });
  return { mediaType, digest: `sha256:${hex}`, size: data.length };
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/** A reproducible tar of a directory's contents: root-owned, sorted, hard links kept as links. */
async function tarDirectory(dir: string, output: string): Promise<void> {
  await runChecked('tar', ['--create', '--file', output, '--directory', dir, '--owner=0', '--group=0', '--numeric-owner', '--sort=name', '--mtime=@0', '.']);
}

/** Packs rootfs as a one-layer image into the OCI archive at output (written atomically). */
export async function packOciImage(rootfs: string, output: string, spec: ImageSpec): Promise<void> {
  const work = mkdtempSync(join(dirname(output), '.oci-'));
  try {
    const layerTar = join(work, 'layer.tar');
    await tarDirectory(rootfs, layerTar);
    const layout = join(work, 'layout');
    mkdirSync(join(layout, 'blobs/sha256'), { recursive: true, mode: 0o700 });
    const layer = writeBlob(layout, 'application/vnd.oci.image.layer.v1.tar', readFileSync(layerTar));
    rmSync(layerTar);
    const config = writeBlob(layout, 'application/vnd.oci.image.config.v1+json', json({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: spec.env ?? [], ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}), ...(spec.cmd ? { Cmd: spec.cmd } : {}), ...(spec.user ? { User: spec.user } : {}) },
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
    }));
    const manifest = writeBlob(layout, 'application/vnd.oci.image.manifest.v1+json', json({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config,
      layers: [layer],
    }));
    const tag = spec.name.slice(spec.name.lastIndexOf(':') + 1);
    writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }), { mode: 0o600 });
    writeFileSync(join(layout, 'index.json'), JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...manifest, annotations: { 'io.containerd.image.name': spec.name, 'org.opencontainers.image.ref.name': tag } }],
    }), { mode: 0o600 });
    await tarDirectory(layout, `${output}.partial`);
    renameSync(`${output}.partial`, output);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
