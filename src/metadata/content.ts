// Content records: v1/<ns>/content/blob/<digest>/{createdat, updatedat, size (signed varint), labels/}
// and v1/<ns>/content/ingests/<ref>/{ref (backend ref), expireat?, expected?} (metadata/content.go).

import type { Tx } from '../bolt/index.js';
import {
  BUCKET_KEY_EXPECTED,
  BUCKET_KEY_EXPIRE_AT,
  BUCKET_KEY_OBJECT_BLOB,
  BUCKET_KEY_OBJECT_CONTENT,
  BUCKET_KEY_OBJECT_INGESTS,
  BUCKET_KEY_REF,
  BUCKET_KEY_SIZE,
  namespaceBucket,
  readLabels,
  readTime,
  readTimestamps,
  str,
} from './buckets.js';
import { goVarint, type GoTime } from './encoding.js';
import { checkMap, type Adaptor } from './filters.js';
import { isDigest } from '../content/digest.js';
import { readRecord } from './damaged-records.js';
import { ErrCorruptValue } from './errors.js';

/** go-digest's Parse (the content store's validation). */
export { isDigest };

export interface ContentInfo {
  digest: string;
  size: number;
  createdAt: GoTime;
  updatedAt: GoTime;
  labels?: Record<string, string>;
}

export interface Ingest {
  /** The client's ref (the bucket key). */
  ref: string;
  /** The content store's ref: <ns>/<sequence>/<ref>. */
  backendRef: string;
  expireAt?: GoTime;
  expected?: string;
}

/** Blobs of a namespace in digest order; keys that are not digests are skipped, as containerd does. */
export function listContent(tx: Tx, ns: string): ContentInfo[] {
  const bkt = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_CONTENT, BUCKET_KEY_OBJECT_BLOB);
  const out: ContentInfo[] = [];
  bkt?.forEach((k, v) => {
    const digest = str(k);
    if (v !== undefined || !isDigest(digest)) return;
    const b = bkt.bucket(k)!;
    const info = readRecord(tx, 'content', ns, digest, (): ContentInfo => {
      const sz = b.get(BUCKET_KEY_SIZE);
      // containerd's readInfo: `info.Size, _ = binary.Varint(v)` (bytes that do not decode read as 0).
      const r: ContentInfo = { digest, size: sz && sz.length > 0 ? goVarint(sz) : 0, ...readTimestamps(b) };
      const labels = readLabels(b);
      if (labels) r.labels = labels;
      return r;
    });
    if (info) out.push(info);
  });
  return out;
}

export function getContent(tx: Tx, ns: string, digest: string): ContentInfo | undefined {
  return listContent(tx, ns).find((c) => c.digest === digest);
}

export function listIngests(tx: Tx, ns: string): Ingest[] {
  const bkt = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_CONTENT, BUCKET_KEY_OBJECT_INGESTS);
  const out: Ingest[] = [];
  bkt?.forEach((k, v) => {
    if (v !== undefined) return;
    const b = bkt.bucket(k)!;
    const ing = readRecord(tx, 'ingest', ns, str(k), (): Ingest => {
      const r: Ingest = { ref: str(k), backendRef: str(b.get(BUCKET_KEY_REF)) };
      // containerd's ListStatuses never reads expireat (its GC does, strictly: gc.ts), so a
      // value that does not decode is left out here rather than failing the listing.
      try {
        const exp = readTime(b, BUCKET_KEY_EXPIRE_AT);
        if (exp) r.expireAt = exp;
      } catch (e) {
        if (!(e instanceof ErrCorruptValue)) throw e;
      }
      const e = b.get(BUCKET_KEY_EXPECTED);
      if (e !== undefined) r.expected = str(e);
      return r;
    });
    if (ing) out.push(ing);
  });
  return out;
}

/** Filter fields of a blob (content.AdaptInfo). */
export function adaptContent(c: ContentInfo): Adaptor {
  return (fp) => {
    switch (fp[0]) {
      case 'digest':
        return [c.digest, true];
      case 'size':
        return ['', false];
      case 'labels':
        return checkMap(fp.slice(1), c.labels);
    }
    return ['', false];
  };
}
