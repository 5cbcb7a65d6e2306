// Snapshot references in meta.db: v1/<ns>/snapshots/<snapshotter>/<key>/ (metadata/snapshot.go).
//   name        backend name "<ns>/<sequence of snapshots/<snapshotter>>/<key>"
//   parent      parent key (text)
//   createdat, updatedat, labels/, children/<child key> (empty values)

import type { Bucket, Tx } from '../bolt/index.js';
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
import { readRecord } from './damaged-records.js';
import { ErrCorruptValue } from './errors.js';

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
    const ref = readRecord(tx, 'snapshot', ns, `${snapshotter}/${str(k)}`, () => readSnapshotRef(str(k), bkt.bucket(k)!));
    if (ref) out.push(ref);
  });
  return out;
}

function readSnapshotRef(key: string, b: Bucket): SnapshotRef {
  const r: SnapshotRef = {
    key,
    name: str(b.get(BUCKET_KEY_NAME)),
    parent: str(b.get(BUCKET_KEY_PARENT)),
    ...readTimestamps(b),
    children: plainKeys(b.bucket(BUCKET_KEY_CHILDREN)),
  };
  const labels = readLabels(b);
  if (labels) r.labels = labels;
  return r;
}

/** The one record (metadata/snapshot.go Stat, which wraps a timestamp error: "failed to read timestamps: ..."). */
export function getSnapshotRef(tx: Tx, ns: string, snapshotter: string, key: string): SnapshotRef | undefined {
  const b = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_SNAPSHOTS, snapshotter, key);
  if (!b) return undefined;
  try {
    return readSnapshotRef(key, b);
  } catch (e) {
    if (e instanceof ErrCorruptValue) throw new ErrCorruptValue(`failed to read timestamps: ${e.message}`, { cause: e });
    throw e;
  }
}
