// Removing a snapshot record from meta.db (metadata/snapshot.go Remove): v1/<ns>/snapshots/<sn>/<key>.
//   refused with "cannot remove snapshot with child: failed precondition" while children/ has an entry;
//   the key is dropped from the parent's children/; the record is deleted. The backend snapshot is left
//   for the garbage collector (containerd marks the snapshotter dirty).

import type { Tx } from '../bolt/index.js';
import { BUCKET_KEY_CHILDREN, BUCKET_KEY_NAME, BUCKET_KEY_OBJECT_SNAPSHOTS, BUCKET_KEY_PARENT, namespaceBucket, str } from './buckets.js';
import { ERRDEFS, requireNamespace } from './boltutil.js';
import { ErrFailedPrecondition, ErrNotFound } from './errors.js';

/** Returns the backend name the record pointed at. */
export function removeSnapshotRecord(tx: Tx, ns: string, snapshotter: string, key: string): string {
  requireNamespace(ns);
  const bkt = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_SNAPSHOTS, snapshotter);
  const sbkt = bkt?.bucket(key);
  if (!bkt || !sbkt) throw new ErrNotFound(`snapshot ${key} does not exist: ${ERRDEFS.notFound}`);
  if (sbkt.bucket(BUCKET_KEY_CHILDREN)?.cursor().first() !== undefined) {
    throw new ErrFailedPrecondition(`cannot remove snapshot with child: ${ERRDEFS.failedPrecondition}`);
  }
  const parent = sbkt.get(BUCKET_KEY_PARENT);
  if (parent && parent.length > 0) {
    const pbkt = bkt.bucket(parent);
    if (!pbkt) throw new ErrNotFound(`parent snapshot ${str(parent)} does not exist: ${ERRDEFS.notFound}`);
    pbkt.bucket(BUCKET_KEY_CHILDREN)?.delete(key);
  }
  const name = str(sbkt.get(BUCKET_KEY_NAME));
  bkt.deleteBucket(key);
  return name;
}
