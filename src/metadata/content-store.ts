// Writing content records: v1/<ns>/content/blob/<digest>/ (containerd metadata/content.go commit, Update, Delete).
//
//   createdat, updatedat   time.MarshalBinary (commit: both the commit time; Update: updatedat now)
//   labels/                replaced whole; empty values dropped
//   size                   signed varint
//
// These write the metadata only. The bytes belong in the content store (blobs/<alg>/<hex>), which a caller
// fills first, as containerd commits the file before the record.

import type { Tx } from '../bolt/index.js';
import { BUCKET_KEY_OBJECT_BLOB, BUCKET_KEY_OBJECT_CONTENT, BUCKET_KEY_SIZE, SCHEMA_VERSION, namespaceBucket, readLabels, readTimestamps } from './buckets.js';
import { ERRDEFS, type Clock, checkTime, createBucketPath, digestError, isInt64, q, requireNamespace, validateLabelsAs, writeLabels, writeTimestamps } from './boltutil.js';
import type { ContentInfo } from './content.js';
import { decodeVarint, encodeVarint, type GoTime } from './encoding.js';
import { ErrAlreadyExists, ErrInvalidArgument, ErrNotFound } from './errors.js';
import type { Labels } from './labels.js';

export interface BlobRecordOptions {
  /** Keep these times instead of the commit time (imports, copies). */
  createdAt?: GoTime;
  updatedAt?: GoTime;
}

function checkDigest(digest: string): void {
  const err = digestError(digest);
  if (err) throw new ErrInvalidArgument(`invalid digest ${q(digest)}: ${err}: ${ERRDEFS.invalidArgument}`);
}

/** The record a namespaced writer's commit adds once the blob is in the content store. */
export function addBlobRecord(tx: Tx, ns: string, digest: string, size: number, labels: Labels | undefined, options: BlobRecordOptions, clock: Clock): ContentInfo {
  requireNamespace(ns);
  checkDigest(digest);
  if (!isInt64(size) || size < 0) throw new ErrInvalidArgument(`size ${size} must be a non-negative integer: ${ERRDEFS.invalidArgument}`);
  validateLabelsAs('info.Labels', labels);
  const blobs = createBucketPath(tx, SCHEMA_VERSION, ns, BUCKET_KEY_OBJECT_CONTENT, BUCKET_KEY_OBJECT_BLOB);
  if (blobs.bucket(digest)) throw new ErrAlreadyExists(`content ${digest}: ${ERRDEFS.alreadyExists}`);
  const bkt = blobs.createBucket(digest);
  const createdAt = options.createdAt ? checkTime(options.createdAt, 'info.CreatedAt') : clock();
  const updatedAt = options.updatedAt ? checkTime(options.updatedAt, 'info.UpdatedAt') : createdAt;
  writeTimestamps(bkt, createdAt, updatedAt);
  const stored = writeLabels(bkt, labels);
  bkt.put(BUCKET_KEY_SIZE, encodeVarint(size));
  const info: ContentInfo = { digest, size, createdAt, updatedAt };
  if (stored) info.labels = stored;
  return info;
}

export interface UpdateContentOptions {
  /** Keep this update time instead of now. */
  updatedAt?: GoTime;
}

/**
 * contentStore.Update: labels are the only mutable field. Without fieldpaths (or with "labels") the labels
 * become exactly `labels`; "labels.<key>" sets or (empty value) removes one key.
 */
export function updateContentLabels(
  tx: Tx,
  ns: string,
  digest: string,
  labels: Labels | undefined,
  fieldpaths: string[] | undefined,
  options: UpdateContentOptions,
  clock: Clock,
): ContentInfo {
  requireNamespace(ns);
  const bkt = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_CONTENT, BUCKET_KEY_OBJECT_BLOB, digest);
  if (!bkt) throw new ErrNotFound(`content digest ${digest}: ${ERRDEFS.notFound}`);
  const { createdAt } = readTimestamps(bkt);
  const sz = bkt.get(BUCKET_KEY_SIZE);
  const size = sz !== undefined && sz.length > 0 ? decodeVarint(sz)[0] : 0;
  let next: Labels | undefined = readLabels(bkt);
  if (fieldpaths && fieldpaths.length > 0) {
    for (const path of fieldpaths) {
      if (path.startsWith('labels.')) {
        const key = path.slice('labels.'.length);
        next = { ...(next ?? {}), [key]: labels?.[key] ?? '' };
        continue;
      }
      if (path !== 'labels') throw new ErrInvalidArgument(`cannot update ${q(path)} field on content info ${q(digest)}: ${ERRDEFS.invalidArgument}`);
      next = labels === undefined ? undefined : { ...labels };
    }
  } else {
    next = labels === undefined ? undefined : { ...labels };
  }
  validateLabelsAs('info.Labels', next);
  const updatedAt = options.updatedAt ? checkTime(options.updatedAt, 'info.UpdatedAt') : clock();
  // writeInfo: timestamps, labels, size (rewritten with the value read).
  writeTimestamps(bkt, createdAt, updatedAt);
  const stored = writeLabels(bkt, next);
  bkt.put(BUCKET_KEY_SIZE, encodeVarint(size));
  const info: ContentInfo = { digest, size, createdAt, updatedAt };
  if (stored) info.labels = stored;
  return info;
}

/** contentStore.Delete's metadata part: the record goes; the file is left to the content store's GC. */
export function deleteBlobRecord(tx: Tx, ns: string, digest: string): void {
  requireNamespace(ns);
  const blobs = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_CONTENT, BUCKET_KEY_OBJECT_BLOB);
  if (!blobs || !blobs.bucket(digest)) throw new ErrNotFound(`content digest ${digest}: ${ERRDEFS.notFound}`);
  blobs.deleteBucket(digest);
}
