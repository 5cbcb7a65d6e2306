// Write-side helpers every object store shares (containerd metadata/boltutil and buckets.go):
// bucket paths created on demand, string maps written by replacement, timestamps, protobuf Any,
// the validation rules (identifiers, labels, digests) with containerd's error texts, and the clock.
//
// Error messages end with the errdefs text containerd wraps ("invalid argument", "not found", ...),
// so they read as containerd's own.

import type { Bucket, Tx } from '../bolt/index.js';
import { encodeAny, type Any } from './any.js';
import { BUCKET_KEY_ANNOTATIONS, BUCKET_KEY_CREATED_AT, BUCKET_KEY_EXTENSIONS, BUCKET_KEY_OBJECT_LABELS, BUCKET_KEY_UPDATED_AT } from './buckets.js';
import { encodeTime, type GoTime, UNIX_TO_INTERNAL } from './encoding.js';
import { ErrInvalidArgument } from './errors.js';
import { IDENTIFIER_PATTERN, MAX_IDENTIFIER_LENGTH } from './identifiers.js';
import { MAX_LABEL_SIZE } from './labels.js';

/** errdefs texts containerd appends with %w. */
export const ERRDEFS = {
  notFound: 'not found',
  alreadyExists: 'already exists',
  invalidArgument: 'invalid argument',
  failedPrecondition: 'failed precondition',
  notImplemented: 'not implemented',
} as const;

const encoder = new TextEncoder();

/** Go's %q for a string of printable text (what every message here quotes). */
export function q(s: string): string {
  return JSON.stringify(s);
}

// --- clock ------------------------------------------------------------------

/** A clock returning the current time; containerd uses time.Now().UTC(). */
export type Clock = () => GoTime;

const ANCHOR_NS = BigInt(Date.now()) * 1_000_000n;
const ANCHOR_HR = process.hrtime.bigint();

/** Wall time anchored once, advanced by the monotonic clock: nanosecond resolution, never going back. */
export const systemClock: Clock = () => {
  const ns = ANCHOR_NS + (process.hrtime.bigint() - ANCHOR_HR);
  const unix = ns / 1_000_000_000n;
  return { unix: Number(unix), nanos: Number(ns - unix * 1_000_000_000n) };
};

/** Checks a caller-supplied time can be stored (Go's MarshalBinary range, whole nanoseconds). */
export function checkTime(t: GoTime, what: string): GoTime {
  const sec = BigInt(Math.trunc(t.unix)) + UNIX_TO_INTERNAL;
  if (!Number.isSafeInteger(t.unix) || !Number.isInteger(t.nanos) || t.nanos < 0 || t.nanos > 999_999_999 || sec < -(1n << 63n) || sec >= 1n << 63n) {
    throw new ErrInvalidArgument(`${what}: not a valid time: ${ERRDEFS.invalidArgument}`);
  }
  return t;
}

/** A Create's times: the given ones (checked, as "<what>.CreatedAt"), else now; updatedAt defaults to createdAt. */
export function createTimes(given: { createdAt?: GoTime; updatedAt?: GoTime }, what: string, clock: Clock): { createdAt: GoTime; updatedAt: GoTime } {
  const createdAt = given.createdAt ? checkTime(given.createdAt, `${what}.CreatedAt`) : clock();
  const updatedAt = given.updatedAt ? checkTime(given.updatedAt, `${what}.UpdatedAt`) : createdAt;
  return { createdAt, updatedAt };
}

/** An Update's updatedAt: the given one (checked, as "<what>.UpdatedAt"), else now. */
export function updateTime(given: { updatedAt?: GoTime }, what: string, clock: Clock): GoTime {
  return given.updatedAt ? checkTime(given.updatedAt, `${what}.UpdatedAt`) : clock();
}

// --- validation ---------------------------------------------------------------

/** identifiers.Validate; the message as containerd words it (its regexp printed as Go does). */
export function identifierError(s: string): string | undefined {
  if (s.length === 0) return `identifier must not be empty: ${ERRDEFS.invalidArgument}`;
  if (s.length > MAX_IDENTIFIER_LENGTH) {
    return `identifier ${q(s)} greater than maximum length (${MAX_IDENTIFIER_LENGTH} characters): ${ERRDEFS.invalidArgument}`;
  }
  if (!IDENTIFIER_PATTERN.test(s)) {
    return `identifier ${q(s)} must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$: ${ERRDEFS.invalidArgument}`;
  }
  return undefined;
}

/** namespaces.NamespaceRequired: every namespaced call validates its namespace first. */
export function requireNamespace(ns: string): void {
  if (ns === '') throw new ErrInvalidArgument(`namespace is required: ${ERRDEFS.failedPrecondition}`);
  const err = identifierError(ns);
  if (err) throw new ErrInvalidArgument(`namespace validation: ${err}`);
  // "version" is a value under v1, never a bucket: bolt would refuse it with "incompatible value".
  if (ns === 'version') throw new ErrInvalidArgument(`namespace "version" is reserved: ${ERRDEFS.invalidArgument}`);
}

/** labels.Validate: key + value at most 4096 bytes; the message shows the first 10 bytes of the key. */
export function labelError(key: string, value: string): string | undefined {
  const k = encoder.encode(key);
  if (k.length + encoder.encode(value).length <= MAX_LABEL_SIZE) return undefined;
  const shown = k.length > 10 ? Buffer.from(k.subarray(0, 10)).toString('utf8') : key;
  return `label key and value greater than maximum size (${MAX_LABEL_SIZE} bytes), key: ${shown}: ${ERRDEFS.invalidArgument}`;
}

/** Validates every label; `prefix` is containerd's ("image.Labels", "containers.Labels", ...). */
export function validateLabelsAs(prefix: string, labels: Record<string, string> | undefined): void {
  for (const [k, v] of Object.entries(labels ?? {})) {
    const err = labelError(k, v);
    if (err) throw new ErrInvalidArgument(`${prefix}: ${err}`);
  }
}

const DIGEST_HEX: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** go-digest Digest.Validate: undefined when valid, else go-digest's error text. */
export function digestError(d: string): string | undefined {
  const i = d.indexOf(':');
  if (i <= 0 || i + 1 === d.length) return 'invalid checksum digest format';
  const n = DIGEST_HEX[d.slice(0, i)];
  const hex = d.slice(i + 1);
  if (n === undefined) return DIGEST_RE.test(d) ? 'unsupported digest algorithm' : 'invalid checksum digest format';
  if (hex.length !== n) return 'invalid checksum digest length';
  if (!/^[a-f0-9]+$/.test(hex)) return 'invalid checksum digest format';
  return undefined;
}

/** An integer the signed-varint fields can hold exactly (int64 in Go; safe integers here). */
export function isInt64(n: number): boolean {
  return Number.isSafeInteger(n);
}

// --- buckets ----------------------------------------------------------------

/** createBucketIfNotExists along a path from the transaction root (buckets.go createBucketIfNotExists). */
export function createBucketPath(tx: Tx, first: string, ...rest: string[]): Bucket {
  let b = tx.createBucketIfNotExists(first);
  for (const p of rest) b = b.createBucketIfNotExists(p);
  return b;
}

/** True when the bucket is missing or has no keys (namespaces.go isBucketEmpty). */
export function isBucketEmpty(b: Bucket | undefined): boolean {
  return b === undefined || b.cursor().first() === undefined;
}

/**
 * boltutil.writeMap: the bucket is deleted and, when the map has entries, created again with the
 * non-empty values. A map whose values are all empty leaves an empty bucket, as in containerd.
 * Returns the map as stored (empty values dropped), or undefined when no bucket was written.
 */
export function writeMap(bkt: Bucket, name: string, m: Record<string, string> | undefined): Record<string, string> | undefined {
  if (bkt.bucket(name)) bkt.deleteBucket(name);
  const entries = Object.entries(m ?? {});
  if (entries.length === 0) return undefined;
  const mb = bkt.createBucket(name);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (v === '') continue;
    mb.put(k, v);
    out[k] = v;
  }
  return out;
}

export function writeLabels(bkt: Bucket, labels: Record<string, string> | undefined): Record<string, string> | undefined {
  return writeMap(bkt, BUCKET_KEY_OBJECT_LABELS, labels);
}

export function writeAnnotations(bkt: Bucket, annotations: Record<string, string> | undefined): Record<string, string> | undefined {
  return writeMap(bkt, BUCKET_KEY_ANNOTATIONS, annotations);
}

/** boltutil.WriteTimestamps: createdat and updatedat as time.MarshalBinary. */
export function writeTimestamps(bkt: Bucket, createdAt: GoTime, updatedAt: GoTime): void {
  bkt.put(BUCKET_KEY_CREATED_AT, encodeTime(createdAt));
  bkt.put(BUCKET_KEY_UPDATED_AT, encodeTime(updatedAt));
}

/** boltutil.WriteAny: nothing written for a missing Any. */
export function writeAny(bkt: Bucket, name: string, any: Any | undefined): void {
  if (any === undefined) return;
  bkt.put(name, encodeAny(any));
}

/**
 * boltutil.WriteExtensions: puts each extension into extensions/ (created if missing). Like containerd,
 * it never removes extensions that are no longer in the map.
 */
export function writeExtensions(bkt: Bucket, extensions: Record<string, Any> | undefined): void {
  const entries = Object.entries(extensions ?? {});
  if (entries.length === 0) return;
  const eb = bkt.createBucketIfNotExists(BUCKET_KEY_EXTENSIONS);
  for (const [name, ext] of entries) eb.put(name, encodeAny(ext));
}
