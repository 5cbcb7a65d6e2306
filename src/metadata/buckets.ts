// Bucket and key names of containerd's meta.db (metadata/buckets.go), and the small helpers every
// object reader shares (boltutil: labels, annotations, timestamps).
//
//   v1/                                 schemaVersion
//   ├── version                         signed varint: 3 (1.6, 1.7) or 4 (2.x)
//   └── <namespace>/
//       ├── labels/                     namespace labels
//       ├── images/<name>/              createdat updatedat labels/ annotations/ target/{digest mediatype size}
//       ├── containers/<id>/            createdat updatedat labels/ image runtime/{name options} spec
//       │                               snapshotter snapshotKey extensions/ sandboxid
//       ├── snapshots/<snapshotter>/<key>/   name parent createdat updatedat labels/ children/
//       ├── content/blob/<digest>/      createdat updatedat size labels/
//       ├── content/ingests/<ref>/      ref expireat? expected?
//       ├── leases/<id>/                createdat labels/ content/ snapshots/<sn>/ ingests/ images/
//       └── sandboxes/<id>/             2.x (1.7: top-level <namespace>/sandboxes/)

import type { Bucket, Tx } from '../bolt/index.js';
import { decodeTime, type GoTime, UNIX_TO_INTERNAL } from './encoding.js';

export const SCHEMA_VERSION = 'v1';
export const BUCKET_KEY_DB_VERSION = 'version';
export const BUCKET_KEY_OBJECT_LABELS = 'labels';
export const BUCKET_KEY_OBJECT_IMAGES = 'images';
export const BUCKET_KEY_OBJECT_CONTAINERS = 'containers';
export const BUCKET_KEY_OBJECT_SNAPSHOTS = 'snapshots';
export const BUCKET_KEY_OBJECT_CONTENT = 'content';
export const BUCKET_KEY_OBJECT_BLOB = 'blob';
export const BUCKET_KEY_OBJECT_INGESTS = 'ingests';
export const BUCKET_KEY_OBJECT_LEASES = 'leases';
export const BUCKET_KEY_OBJECT_SANDBOXES = 'sandboxes';

export const BUCKET_KEY_DIGEST = 'digest';
export const BUCKET_KEY_MEDIA_TYPE = 'mediatype';
export const BUCKET_KEY_SIZE = 'size';
export const BUCKET_KEY_IMAGE = 'image';
export const BUCKET_KEY_RUNTIME = 'runtime';
export const BUCKET_KEY_NAME = 'name';
export const BUCKET_KEY_PARENT = 'parent';
export const BUCKET_KEY_CHILDREN = 'children';
export const BUCKET_KEY_OPTIONS = 'options';
export const BUCKET_KEY_SPEC = 'spec';
export const BUCKET_KEY_SNAPSHOT_KEY = 'snapshotKey';
export const BUCKET_KEY_SNAPSHOTTER = 'snapshotter';
export const BUCKET_KEY_TARGET = 'target';
export const BUCKET_KEY_EXTENSIONS = 'extensions';
export const BUCKET_KEY_CREATED_AT = 'createdat';
export const BUCKET_KEY_UPDATED_AT = 'updatedat';
export const BUCKET_KEY_EXPECTED = 'expected';
export const BUCKET_KEY_REF = 'ref';
export const BUCKET_KEY_EXPIRE_AT = 'expireat';
export const BUCKET_KEY_ANNOTATIONS = 'annotations';
export const BUCKET_KEY_SANDBOX_ID = 'sandboxid';
export const BUCKET_KEY_SANDBOXER = 'sandboxer';

/** Go's zero time.Time (0001-01-01T00:00:00Z): what a missing timestamp reads as. */
export const ZERO_TIME: GoTime = Object.freeze({ unix: -Number(UNIX_TO_INTERNAL), nanos: 0 });

const decoder = new TextDecoder();
/** Bytes as a Go string would print them (UTF-8). */
export function str(b: Uint8Array | undefined): string {
  return b === undefined ? '' : decoder.decode(b);
}

/** Walks a bucket path from the transaction root; undefined when any part is missing. */
export function getBucket(tx: Tx, ...path: string[]): Bucket | undefined {
  const [first, ...rest] = path;
  if (first === undefined) return undefined;
  let b = tx.bucket(first);
  for (const p of rest) {
    if (!b) return undefined;
    b = b.bucket(p);
  }
  return b;
}

/** Reads a string map bucket (labels, annotations); undefined when the bucket is absent (Go: nil map). */
export function readMap(bkt: Bucket, name: string): Record<string, string> | undefined {
  const m = bkt.bucket(name);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  m.forEach((k, v) => {
    if (v !== undefined) out[str(k)] = str(v);
  });
  return out;
}

export function readLabels(bkt: Bucket): Record<string, string> | undefined {
  return readMap(bkt, BUCKET_KEY_OBJECT_LABELS);
}

export function readAnnotations(bkt: Bucket): Record<string, string> | undefined {
  return readMap(bkt, BUCKET_KEY_ANNOTATIONS);
}

/** A stored time.Time; undefined when the key is absent. An empty value is an error, as Go's `if v != nil { UnmarshalBinary(v) }`. */
export function readTime(bkt: Bucket, key: string): GoTime | undefined {
  const v = bkt.get(key);
  return v === undefined ? undefined : decodeTime(v);
}

/** boltutil.ReadTimestamps: missing values stay Go's zero time. */
export function readTimestamps(bkt: Bucket): { createdAt: GoTime; updatedAt: GoTime } {
  return {
    createdAt: readTime(bkt, BUCKET_KEY_CREATED_AT) ?? ZERO_TIME,
    updatedAt: readTime(bkt, BUCKET_KEY_UPDATED_AT) ?? ZERO_TIME,
  };
}

/** Names of the nested buckets of bkt, in key order. */
export function childBuckets(bkt: Bucket | undefined): string[] {
  const out: string[] = [];
  bkt?.forEach((k, v) => {
    if (v === undefined) out.push(str(k));
  });
  return out;
}

/** Values of the plain keys of bkt (key order). */
export function plainKeys(bkt: Bucket | undefined): string[] {
  const out: string[] = [];
  bkt?.forEach((k, v) => {
    if (v !== undefined) out.push(str(k));
  });
  return out;
}

export function namespaceBucket(tx: Tx, ns: string, ...rest: string[]): Bucket | undefined {
  return getBucket(tx, SCHEMA_VERSION, ns, ...rest);
}
