// Snapshot references in meta.db: v1/<ns>/snapshots/<snapshotter>/<key>/ (metadata/snapshot.go).
//   name        backend name "<ns>/<sequence of snapshots/<snapshotter>>/<key>"
//   parent      parent key (text)
//   createdat, updatedat, labels/, children/<child key> (empty values)

import type { Tx } from '../bolt/index.js';
import {
  BUCKET_KEY_CHILDREN,
  BUCKET_KEY_NAME,
  BUCKET_KEY_OBJECT_SNAPSHOTS,
  BUCKET_KEY_PARENT,
  childBuckets,
  namespaceBucket,
  plainKeys,
  readLabels,
  readTimestamps,
  str,
} from './buckets.js';
import type { GoTime } from './encoding.js';

export interface SnapshotRef {
  key: string;
  /** The snapshotter's own name for it (backend key). */
  name: string;
  parent: string;
  createdAt: GoTime;
  updatedAt: GoTime;
  labels?: Record<string, string>;
  children: string[];
}

/** Snapshotter names that have a bucket in the namespace. */
export function listSnapshotters(tx: Tx, ns: string): string[] {
  return childBuckets(namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_SNAPSHOTS));
}

export function listSnapshotRefs(tx: Tx, ns: string, snapshotter: string): SnapshotRef[] {
  const bkt = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_SNAPSHOTS, snapshotter);
  const out: SnapshotRef[] = [];
  bkt?.forEach((k, v) => {
    if (v !== undefined) return;
    const b = bkt.bucket(k)!;
    const ref: SnapshotRef = {
      key: str(k),
      name: str(b.get(BUCKET_KEY_NAME)),
      parent: str(b.get(BUCKET_KEY_PARENT)),
      ...readTimestamps(b),
      children: plainKeys(b.bucket(BUCKET_KEY_CHILDREN)),
    };
    const labels = readLabels(b);
    if (labels) ref.labels = labels;
    out.push(ref);
  });
  return out;
}

export function getSnapshotRef(tx: Tx, ns: string, snapshotter: string, key: string): SnapshotRef | undefined {
  return listSnapshotRefs(tx, ns, snapshotter).find((s) => s.key === key);
}
