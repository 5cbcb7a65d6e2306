// The ingest directory of one ref, as containerd's local store lays it out:
//
//   ingest/<sha256 hex of the ref>/
//     ref         the ref, as text (the directory name is a hash, so this is how a listing finds it)
//     data        the bytes written so far; its size is the writer's offset
//     startedat   RFC3339Nano text (Go time.MarshalText, read back as Time.UnmarshalText: rfc3339.ts), when the ingest began
//     updatedat   RFC3339Nano text, rewritten on close (the data file's mtime may be newer)
//     total       decimal text, the expected size, only when known (> 0)
//
// Small files are written as containerd's writeToCompletion does: `<name>.tmp` opened O_SYNC,
// then renamed over the name.

import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ContentCorruptError, ContentNotFoundError, ContentTimestampError, ContentUnsafePathError, InvalidRefError } from './errors.js';
import { GoTimeParseError, parseGoRFC3339 } from './rfc3339.js';

/** Longest ref accepted, in UTF-8 bytes. containerd sets none; refs name files only through their hash. */
export const MAX_REF_LENGTH = 4096;

/** The status of an ingest (containerd's content.Status). */
export interface Status {
  ref: string;
  /** Bytes written so far (the size of `data`). */
  offset: number;
  /** The expected size, 0 when unknown. */
  total: number;
  startedAt: Date;
  updatedAt: Date;
  /** The expected digest, when the writer was opened with one (in memory only; containerd does not store it). */
  expected?: string;
}

/** Refuses refs containerd could not use or that would make a bad file: empty, NUL, lone surrogates, too long. */
export function validateRef(ref: unknown): string {
  if (typeof ref !== 'string') throw new InvalidRefError(String(ref), `expected a string, got ${typeof ref}`);
  if (ref.length === 0) throw new InvalidRefError(ref, 'ref must not be empty');
  if (ref.length > MAX_REF_LENGTH) throw new InvalidRefError(ref, `longer than ${MAX_REF_LENGTH} bytes`);
  if (ref.includes('\0')) throw new InvalidRefError(ref, 'contains NUL');
  const bytes = Buffer.from(ref, 'utf8');
  if (bytes.length > MAX_REF_LENGTH) throw new InvalidRefError(ref, `longer than ${MAX_REF_LENGTH} bytes`);
  if (bytes.toString('utf8') !== ref) throw new InvalidRefError(ref, 'not well-formed Unicode (lone surrogate)');
  return ref;
}

/** The ingest directory name: the sha256 hex of the ref (go-digest FromString(ref).Encoded()). */
export function ingestKey(ref: string): string {
  return createHash('sha256').update(ref, 'utf8').digest('hex');
}

/** Go's RFC3339Nano: fraction without trailing zeros, omitted when zero; we write UTC ("Z"). */
export function formatTimestamp(d: Date): string {
  const iso = d.toISOString(); // 2006-01-02T15:04:05.000Z
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}

/** Parses RFC3339 / RFC3339Nano text as Go's Time.UnmarshalText does (rfc3339.ts); the fraction is kept to the millisecond. */
export function parseTimestamp(text: string | Uint8Array, source = 'timestamp'): Date {
  let t;
  try {
    t = parseGoRFC3339(text);
  } catch (e) {
    if (e instanceof GoTimeParseError) throw new ContentTimestampError(source, e.message);
    throw e;
  }
  return new Date(t.unix * 1000 + Math.floor(t.nanos / 1e6));
}

/** Writes `<file>.tmp` with O_SYNC and renames it over `file` (containerd's writeToCompletion). */
export function writeToCompletion(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_SYNC | fs.constants.O_NOFOLLOW, 0o666);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

function notFound(e: unknown, what: string, ref?: string): unknown {
  if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
    return new ContentNotFoundError(`${what}: not found`, { ...(ref !== undefined ? { ref } : {}), cause: e });
  }
  return e;
}

function readSmall(file: string, limit: number): string {
  return Buffer.from(readSmallBytes(file, limit)).toString('utf8');
}

function readSmallBytes(file: string, limit: number): Uint8Array {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(limit + 1);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    if (n > limit) throw new ContentCorruptError(file, `longer than ${limit} bytes`);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * readFileTimestamp of containerd's store: the file's bytes as they are (no trimming) through
 * Time.UnmarshalText. A missing file is ContentNotFoundError (so a listing skips the ingest, as
 * containerd's does); text that does not parse is ContentTimestampError with containerd's message
 * ("could not read startedat: could not parse timestamp file <path>: parsing time ...").
 */
function readTimestampFile(dir: string, name: 'startedat' | 'updatedat', ref: string): Date {
  const file = path.join(dir, name);
  let b: Uint8Array;
  try {
    b = readSmallBytes(file, 4096);
  } catch (e) {
    throw notFound(e, `could not read ${name}: open ${file}: no such file or directory`, ref);
  }
  try {
    return parseTimestamp(b, file);
  } catch (e) {
    if (e instanceof ContentTimestampError) throw new ContentTimestampError(file, `could not read ${name}: ${e.message}`, true);
    throw e;
  }
}

/** Reads an ingest directory's `ref` file. */
export function readIngestRef(dir: string): string {
  try {
    return readSmall(path.join(dir, 'ref'), MAX_REF_LENGTH * 4);
  } catch (e) {
    throw notFound(e, `ingest ${dir} ref`);
  }
}

/** The expected size from `total`; 0 when absent or unreadable (as containerd). */
export function readTotal(dir: string): number {
  try {
    const s = readSmall(path.join(dir, 'total'), 32);
    if (!/^\d+$/.test(s)) return 0;
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : 0;
  } catch {
    return 0;
  }
}

/**
 * Reads the status of an ingest directory as containerd's store.status: the offset is the size
 * of `data`, updatedAt the later of `updatedat` and data's mtime. Throws ContentNotFoundError
 * when data or ref is missing; other errors (a bad timestamp) as they come.
 */
export function readStatus(dir: string): Status {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path.join(dir, 'data'));
  } catch (e) {
    throw notFound(e, `ingest ${dir} data`);
  }
  if (!st.isFile()) throw new ContentUnsafePathError(path.join(dir, 'data'), 'not a regular file');
  const ref = readIngestRef(dir);
  const startedAt = readTimestampFile(dir, 'startedat', ref);
  let updatedAt = readTimestampFile(dir, 'updatedat', ref);
  if (st.mtime > updatedAt) updatedAt = st.mtime;
  return { ref, offset: st.size, total: readTotal(dir), startedAt, updatedAt };
}
