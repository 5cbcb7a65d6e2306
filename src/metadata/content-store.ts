// Writing content records: v1/<ns>/content/blob/<digest>/ (containerd metadata/content.go commit, Update, Delete).
//
//   createdat, updatedat   time.MarshalBinary (commit: both the commit time; Update: updatedat now)
//   labels/                replaced whole; empty values dropped
//   size                   signed varint
//
// These write the metadata only. The bytes belong in the content store (blobs/<alg>/<hex>), which a caller
// fills first, as containerd commits the file before the record.
//
// Ingest records, v1/<ns>/content/ingests/<ref>/ (content.go Writer, Commit, Abort):
//
//   ref        the backend ref <ns>/<sequence>/<ref>; the sequence is the ingest bucket's own NextSequence
//   expireat   time.MarshalBinary, now + 24 h, written when no lease holds the ingest (the GC aborts it after)
//   expected   the digest, written only when the shared policy adopted a blob the backend already has
//              (then no backend writer exists until a Write or Truncate unshares it)
//
// With a lease, the ingest is recorded in leases/<id>/ingests/<ref> instead of getting an expiry, and the
// committed blob in leases/<id>/content/<digest>.

import type { Tx } from '../bolt/index.js';
import {
  BUCKET_KEY_EXPECTED,
  BUCKET_KEY_EXPIRE_AT,
  BUCKET_KEY_OBJECT_BLOB,
  BUCKET_KEY_OBJECT_CONTENT,
  BUCKET_KEY_OBJECT_INGESTS,
  BUCKET_KEY_OBJECT_LEASES,
  BUCKET_KEY_REF,
  BUCKET_KEY_SIZE,
  SCHEMA_VERSION,
  namespaceBucket,
  readLabels,
  readTimestamps,
  str,
} from './buckets.js';
import { ERRDEFS, type Clock, createBucketPath, createTimes, updateTime, digestError, isInt64, q, requireNamespace, validateLabelsAs, writeLabels, writeTimestamps } from './boltutil.js';
import type { ContentInfo } from './content.js';
import { goVarint, encodeTime, encodeVarint, type GoTime } from './encoding.js';
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
  const { createdAt, updatedAt } = createTimes(options, 'info', clock);
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
  const size = sz !== undefined && sz.length > 0 ? goVarint(sz) : 0;
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
  const updatedAt = updateTime(options, 'info', clock);
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

// --- ingests and the leases that hold them (content.go Writer / namespacedWriter.Commit / Abort) ---------

const EMPTY = new Uint8Array(0);
/** How long an ingest no lease holds lives before the GC may abort it (content.go: 24 h). */
export const INGEST_EXPIRY_SECONDS = 24 * 60 * 60;

/** The lease a call runs under (leases.WithLease); it must exist. Returns its bucket for the resource type. */
function leaseResourceBucket(tx: Tx, ns: string, lease: string, type: string) {
  const lbkt = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_LEASES, lease);
  if (!lbkt) throw new ErrNotFound(`lease does not exist: ${ERRDEFS.notFound}`);
  return lbkt.createBucketIfNotExists(type);
}

/** addContentLease: the digest joins the lease (nothing without a lease). */
export function addContentLease(tx: Tx, ns: string, lease: string | undefined, digest: string): void {
  if (lease !== undefined) leaseResourceBucket(tx, ns, lease, BUCKET_KEY_OBJECT_CONTENT).put(digest, EMPTY);
}

/** removeIngestLease: a missing lease or entry is not an error. */
export function removeIngestLease(tx: Tx, ns: string, lease: string | undefined, ref: string): void {
  if (lease === undefined) return;
  namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_LEASES, lease, BUCKET_KEY_OBJECT_INGESTS)?.delete(ref);
}

export interface OpenIngestOptions {
  /** The lease the write runs under (must exist). Without one the ingest gets an expireat. */
  lease?: string;
  /** What the writer said it will write (content.WithDescriptor). */
  expected?: { digest: string; size?: number };
  /**
   * The shared policy's adoption: the backend already holds `expected.digest` with this size (the caller asked
   * the content store), so the ingest records `expected` and needs no bytes.
   */
  adopt?: boolean;
}

export type OpenIngestResult =
  /** The namespace has the blob: containerd's "already exists" (the lease, if any, now holds it). */
  | { exists: true }
  | { exists: false; backendRef: string; leased: boolean; adopted: boolean; expireAt?: GoTime };

/** The transaction of containerd's contentStore.Writer, before any byte is written. */
export function openIngestRecord(tx: Tx, ns: string, ref: string, options: OpenIngestOptions, clock: Clock): OpenIngestResult {
  if (ref === '') throw new ErrInvalidArgument(`ref must not be empty: ${ERRDEFS.invalidArgument}`);
  requireNamespace(ns);
  const digest = options.expected?.digest ?? '';
  if (digest !== '') {
    checkDigest(digest);
    if (namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_CONTENT, BUCKET_KEY_OBJECT_BLOB, digest)) {
      addContentLease(tx, ns, options.lease, digest);
      return { exists: true };
    }
  }
  const bkt = createBucketPath(tx, SCHEMA_VERSION, ns, BUCKET_KEY_OBJECT_CONTENT, BUCKET_KEY_OBJECT_INGESTS, ref);
  let leased = false;
  if (options.lease !== undefined) {
    leaseResourceBucket(tx, ns, options.lease, BUCKET_KEY_OBJECT_INGESTS).put(ref, EMPTY);
    leased = true;
  }
  let backendRef = str(bkt.get(BUCKET_KEY_REF));
  if (bkt.get(BUCKET_KEY_REF) === undefined) {
    backendRef = `${ns}/${bkt.nextSequence()}/${ref}`;
    bkt.put(BUCKET_KEY_REF, backendRef);
  }
  const out: OpenIngestResult = { exists: false, backendRef, leased, adopted: false };
  if (!leased) {
    const now = clock();
    const expireAt: GoTime = { unix: now.unix + INGEST_EXPIRY_SECONDS, nanos: now.nanos };
    bkt.put(BUCKET_KEY_EXPIRE_AT, encodeTime(expireAt));
    out.expireAt = expireAt;
  }
  if (options.adopt && digest !== '') {
    bkt.put(BUCKET_KEY_EXPECTED, digest);
    out.adopted = true;
  }
  return out;
}

/**
 * namespacedWriter.Commit's transaction, once the backend holds the blob: the blob record (commit time, labels,
 * size), the ingest record and its lease entry removed, the digest added to the lease. A record the namespace
 * already has throws ErrAlreadyExists after the rest is done (containerd commits the transaction and returns it).
 */
export function commitIngestRecord(tx: Tx, ns: string, ref: string, digest: string, size: number, labels: Labels | undefined, lease: string | undefined, clock: Clock): ContentInfo | ErrAlreadyExists {
  requireNamespace(ns);
  checkDigest(digest);
  validateLabelsAs('info.Labels', labels);
  const blobs = createBucketPath(tx, SCHEMA_VERSION, ns, BUCKET_KEY_OBJECT_CONTENT, BUCKET_KEY_OBJECT_BLOB);
  let result: ContentInfo | ErrAlreadyExists;
  if (blobs.bucket(digest)) result = new ErrAlreadyExists(`content ${digest}: ${ERRDEFS.alreadyExists}`);
  else {
    const bkt = blobs.createBucket(digest);
    const now = clock();
    writeTimestamps(bkt, now, now);
    const stored = writeLabels(bkt, labels);
    bkt.put(BUCKET_KEY_SIZE, encodeVarint(size));
    result = { digest, size, createdAt: now, updatedAt: now, ...(stored ? { labels: stored } : {}) };
  }
  const ingests = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_CONTENT, BUCKET_KEY_OBJECT_INGESTS);
  if (ingests?.bucket(ref)) ingests.deleteBucket(ref);
  removeIngestLease(tx, ns, lease, ref);
  addContentLease(tx, ns, lease, digest);
  return result;
}

/** contentStore.Abort's transaction: the record goes; returns what the backend must abort (nothing when adopted). */
export function abortIngestRecord(tx: Tx, ns: string, ref: string, lease: string | undefined): { backendRef: string; expected: string } {
  requireNamespace(ns);
  const ibkt = namespaceBucket(tx, ns, BUCKET_KEY_OBJECT_CONTENT, BUCKET_KEY_OBJECT_INGESTS);
  const bkt = ibkt?.bucket(ref);
  const backendRef = str(bkt?.get(BUCKET_KEY_REF));
  if (!ibkt || !bkt || backendRef === '') throw new ErrNotFound(`reference ${ref}: ${ERRDEFS.notFound}`);
  const expected = str(bkt.get(BUCKET_KEY_EXPECTED));
  ibkt.deleteBucket(ref);
  removeIngestLease(tx, ns, lease, ref);
  return { backendRef, expected };
}
