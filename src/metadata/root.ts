// Where things are in a containerd root directory (the plugins' directories under `root` in its config):
//
//   <root>/io.containerd.metadata.v1.bolt/meta.db           the metadata database
//   <root>/io.containerd.content.v1.content/blobs/<alg>/<hex>   committed blobs; ingest/<sha256(ref)>/ writes
//   <root>/io.containerd.snapshotter.v1.<sn>/                the snapshotter's metadata.db and snapshots/<id>/
import { join } from 'node:path';

export const META_DB = join('io.containerd.metadata.v1.bolt', 'meta.db');
export const CONTENT_DIR = 'io.containerd.content.v1.content';

/** The snapshotter's root directory under a containerd root. */
export function snapshotterRoot(root: string, snapshotter: string): string {
  return join(root, `io.containerd.snapshotter.v1.${snapshotter}`);
}

/** A blob's path in the content store. */
export function blobPath(root: string, digest: string): string {
  const i = digest.indexOf(':');
  return join(root, CONTENT_DIR, 'blobs', digest.slice(0, i), digest.slice(i + 1));
}
